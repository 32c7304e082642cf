"""Setup for mower_segmentation (ament_python; also pip-installable without ROS)."""

from setuptools import find_packages, setup

package_name = 'mower_segmentation'

setup(
    name=package_name,
    version='0.1.0',
    packages=find_packages(exclude=['test']),
    data_files=[
        ('share/ament_index/resource_index/packages', ['resource/' + package_name]),
        ('share/' + package_name, ['package.xml']),
    ],
    install_requires=['setuptools', 'numpy', 'onnxruntime', 'opencv-python-headless', 'tqdm'],
    extras_require={'train': ['torch', 'onnx'], 'qnn': ['onnxruntime-qnn']},
    zip_safe=True,
    maintainer='Mower stack maintainers',
    maintainer_email='maintainers@mower-stack.org',
    description='Lawn and obstacle segmentation on ONNX Runtime and NPUs; segmentation_node.',
    license='Apache-2.0',
    python_requires='>=3.10',
    entry_points={
        'console_scripts': ['segmentation_node = mower_segmentation.segmentation_node:main']
    },
)
