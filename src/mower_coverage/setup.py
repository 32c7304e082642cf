"""Setup for mower_coverage (ament_python; also pip-installable without ROS)."""

from setuptools import find_packages, setup

package_name = 'mower_coverage'

setup(
    name=package_name,
    version='0.1.0',
    packages=find_packages(exclude=['test']),
    data_files=[
        ('share/ament_index/resource_index/packages', ['resource/' + package_name]),
        ('share/' + package_name, ['package.xml']),
    ],
    install_requires=['setuptools', 'numpy', 'shapely>=2.0', 'matplotlib'],
    zip_safe=True,
    maintainer='Mower stack maintainers',
    maintainer_email='maintainers@mower-stack.org',
    description=(
        'Coverage path planning for lawns: area, headlands, boustrophedon cells, safe routes, '
        'drivable paths; and coverage_node.'
    ),
    license='Apache-2.0',
    python_requires='>=3.10',
    entry_points={'console_scripts': ['coverage_node = mower_coverage.coverage_node:main']},
)
