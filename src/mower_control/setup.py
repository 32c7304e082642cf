"""Setup for mower_control (ament_python; also pip-installable without ROS)."""

from setuptools import find_packages, setup

package_name = 'mower_control'

setup(
    name=package_name,
    version='0.1.0',
    packages=find_packages(exclude=['test']),
    data_files=[
        ('share/ament_index/resource_index/packages', ['resource/' + package_name]),
        ('share/' + package_name, ['package.xml']),
    ],
    install_requires=['setuptools', 'numpy', 'shapely>=2.0', 'pyyaml', 'pyserial'],
    zip_safe=True,
    maintainer='Mower stack maintainers',
    maintainer_email='maintainers@mower-stack.org',
    description='Path following, mission, safety supervisor and motor driver for the mower stack.',
    license='Apache-2.0',
    python_requires='>=3.10',
    entry_points={
        'console_scripts': [
            'controller_node = mower_control.controller_node:main',
            'mission_node = mower_control.mission_node:main',
            'safety_node = mower_control.safety_node:main',
            'motor_driver_node = mower_control.motor_driver_node:main',
        ]
    },
)
