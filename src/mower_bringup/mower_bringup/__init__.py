"""Brings the mower stack up: its launch files, config, maps and models, and where they are.

:func:`mower_bringup.share.share_dir`: the package's share directory (launch/ config/ maps/
models/) after ``colcon build``, or the checkout's top level without ROS.
"""

from mower_bringup.share import BRINGUP, share_dir

__all__ = ['BRINGUP', 'share_dir']
