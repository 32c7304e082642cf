"""Setup for mower_mapping (ament_python; also pip-installable without ROS)."""

from setuptools import find_packages, setup

package_name = 'mower_mapping'

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
        'opencv-python-headless',
        'shapely>=2.0',
        'scipy',  # discovery: distance transforms and Dijkstra on the grid
    ],
    zip_safe=True,
    maintainer='Mower stack maintainers',
    maintainer_email='maintainers@mower-stack.org',
    description='Semantic grid, obstacle extraction and the mowed-coverage layer.',
    license='Apache-2.0',
    python_requires='>=3.10',
    entry_points={'console_scripts': ['mapping_node = mower_mapping.mapping_node:main']},
)
