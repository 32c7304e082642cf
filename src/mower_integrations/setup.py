"""Setup for mower_integrations (ament_python; also pip-installable without ROS)."""

from setuptools import find_packages, setup

package_name = 'mower_integrations'

setup(
    name=package_name,
    version='0.1.0',
    packages=find_packages(exclude=['test']),
    data_files=[
        ('share/ament_index/resource_index/packages', ['resource/' + package_name]),
        ('share/' + package_name, ['package.xml']),
    ],
    install_requires=['setuptools', 'paho-mqtt>=2.0'],
    zip_safe=True,
    maintainer='Mower stack maintainers',
    maintainer_email='maintainers@mower-stack.org',
    description='Home Assistant over MQTT (and later other integrations) for the mower stack.',
    license='Apache-2.0',
    python_requires='>=3.10',
    entry_points={
        'console_scripts': [
            'mqtt_bridge_node = mower_integrations.mqtt_bridge_node:main',
        ]
    },
)
