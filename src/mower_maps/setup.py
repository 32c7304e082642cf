"""Setup for mower_maps (ament_python; also pip-installable without ROS)."""

from setuptools import find_packages, setup

package_name = 'mower_maps'

setup(
    name=package_name,
    version='0.1.0',
    packages=find_packages(exclude=['test']),
    data_files=[
        ('share/ament_index/resource_index/packages', ['resource/' + package_name]),
        ('share/' + package_name, ['package.xml']),
    ],
    install_requires=[
        'setuptools',
        'numpy',
        'shapely>=2.0',
        'pyproj',
        'opencv-python-headless',
        'matplotlib',
    ],
    zip_safe=True,
    maintainer='Mower stack maintainers',
    maintainer_email='maintainers@mower-stack.org',
    description=(
        'Lawn maps for the mower stack: GeoJSON loading, validation, WGS84 to ENU, field import.'
    ),
    license='Apache-2.0',
    python_requires='>=3.10',
    entry_points={'console_scripts': []},
)
