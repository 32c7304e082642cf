"""``ament_index_python.packages``: a package's prefix and share directory from the index."""

from __future__ import annotations

import os

RESOURCE_INDEX = os.path.join('share', 'ament_index', 'resource_index')  # constants.py


class PackageNotFoundError(KeyError):
    """packages.py: a KeyError, raised when no prefix's index lists the package."""


def _search_paths() -> list[str]:
    """search_paths.py ``get_search_paths``: AMENT_PREFIX_PATH, existing paths only.

    Unset or empty, it raises EnvironmentError (OSError), not PackageNotFoundError.
    """
    value = os.environ.get('AMENT_PREFIX_PATH')
    if not value:
        raise OSError("Environment variable 'AMENT_PREFIX_PATH' is not set or empty")
    return [p for p in value.split(os.pathsep) if p and os.path.exists(p)]


def get_package_prefix(package_name: str) -> str:
    """packages.py: the first prefix whose ``packages`` resource is a file of that name.

    resources.py ``get_resources('packages')``: prefixes in order, the first one wins,
    directories and names starting with a dot are not resources.
    """
    for prefix in _search_paths():
        marker = os.path.join(prefix, RESOURCE_INDEX, 'packages', package_name)
        if not package_name.startswith('.') and os.path.isfile(marker):
            return prefix
    raise PackageNotFoundError(f"package '{package_name}' not found, searching: {_search_paths()}")


def get_package_share_directory(package_name: str) -> str:
    """packages.py: ``<prefix>/share/<package_name>``."""
    return os.path.join(get_package_prefix(package_name), 'share', package_name)
