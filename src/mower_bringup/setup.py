"""Setup for mower_bringup (ament_python; also pip-installable without ROS).

The files it installs stay at the workspace's top level, where the design card has them
(launch/ config/ maps/ models/); this folder reaches them through four relative symlinks of the
same names (``launch -> ../../launch`` ...), and they are installed into
``share/mower_bringup/`` under those names, so that ``share_dir() / 'config' / 'mapping.yaml'``
names the same file in a checkout and in an install. The symlinks, not ``../../launch`` paths in
``data_files``: with ``colcon build --symlink-install`` colcon links each data file into the
build space at the same relative path, and ``build/mower_bringup/../../launch`` lies outside it
(in the workspace root). A plain build copies the files' contents into the share.
"""

import os
from glob import glob

from setuptools import find_packages, setup

package_name = 'mower_bringup'
FOLDERS = {'launch': '*.launch.py', 'config': '*', 'maps': '*.geojson', 'models': '*'}


def workspace_files() -> list[tuple[str, list[str]]]:
    """(share/mower_bringup/<folder>, files) for each top-level folder; each must have files."""
    out = []
    for folder, pattern in FOLDERS.items():
        files = sorted(f for f in glob(os.path.join(folder, pattern)) if os.path.isfile(f))
        if not files:
            raise SystemExit(
                f'mower_bringup: no {pattern} in {folder}/, the link to the '
                f'workspace top level (../../{folder})'
            )
        out.append((os.path.join('share', package_name, folder), files))
    return out


setup(
    name=package_name,
    version='0.1.0',
    packages=find_packages(exclude=['test']),
    data_files=[
        ('share/ament_index/resource_index/packages', ['resource/' + package_name]),
        ('share/' + package_name, ['package.xml']),
        *workspace_files(),
    ],
    install_requires=['setuptools'],
    zip_safe=True,
    maintainer='Mower stack maintainers',
    maintainer_email='maintainers@mower-stack.org',
    description='Launch files, config, maps and models of the mower stack, and where they are.',
    license='Apache-2.0',
    python_requires='>=3.10',
    entry_points={'console_scripts': []},
)
