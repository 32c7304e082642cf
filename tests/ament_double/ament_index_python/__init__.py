"""A double of ament_index_python, which is not on PyPI: the package lookup, by the real rules.

Only what ``mower_bringup.share`` uses. Each rule cites the file of ament/ament_index
(``ament_index_python/ament_index_python/``) it follows.
"""

from ament_index_python.packages import (
    PackageNotFoundError,
    get_package_prefix,
    get_package_share_directory,
)

__all__ = ['PackageNotFoundError', 'get_package_prefix', 'get_package_share_directory']
