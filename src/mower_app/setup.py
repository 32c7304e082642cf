"""Setup for mower_app (ament_python; also pip-installable without ROS)."""

from setuptools import find_packages, setup

package_name = 'mower_app'

setup(
    name=package_name,
    version='0.1.0',
    packages=find_packages(exclude=['test']),
    # the web page (built or vendored files, no build step here)
    package_data={package_name: ['static/*', 'static/**/*']},
    data_files=[
        ('share/ament_index/resource_index/packages', ['resource/' + package_name]),
        ('share/' + package_name, ['package.xml']),
    ],
    install_requires=['setuptools', 'fastapi>=0.110', 'uvicorn>=0.29', 'websockets>=12'],
    zip_safe=False,
    entry_points={
        'console_scripts': [
            'app_node = mower_app.app_node:main',
        ]
    },
    maintainer='Mower stack maintainers',
    maintainer_email='maintainers@mower-stack.org',
    description="The owner's app, served by the robot (local only): JSON API, live WebSocket.",
    license='Apache-2.0',
    python_requires='>=3.10',
)
