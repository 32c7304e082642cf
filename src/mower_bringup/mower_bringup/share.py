"""Where the stack's files are: a package's share directory, or the checkout without ROS.

After ``colcon build`` (and ``source install/setup.bash``) the launch files, config, maps and
models are in ``share/mower_bringup/``, and the robot description in
``share/mower_description/urdf/``; they are found through the ament index, as ``ros2 launch``
and ``FindPackageShare`` find them. In a checkout without ROS (development, CI, ``mower sim``)
there is no ament index: the same files are the checkout's top-level launch/ config/ maps/
models/ (which mower_bringup's setup.py installs into its share under the same names) and each
package's own folder under src/.
"""

from __future__ import annotations

from pathlib import Path

BRINGUP = 'mower_bringup'
# in a checkout this file is <checkout>/src/mower_bringup/mower_bringup/share.py
CHECKOUT = Path(__file__).resolve().parents[3]


def share_dir(package: str = BRINGUP) -> Path:
    """The share directory of ``package``: from the ament index, else from the checkout.

    The bringup's share holds ``launch/ config/ maps/ models/``, another package's what its
    setup.py installs (mower_description: ``urdf/``). Raises LookupError, naming where it looked,
    when neither the ament index nor a checkout has the package.
    """
    try:
        from ament_index_python.packages import (
            PackageNotFoundError,
            get_package_share_directory,
        )
    except ImportError:  # no ROS here
        index = 'ament_index_python is not installed'
    else:
        try:
            return Path(get_package_share_directory(package))
        except (PackageNotFoundError, OSError) as exc:  # OSError: AMENT_PREFIX_PATH unset
            index = str(exc.args[0] if exc.args else exc)  # a KeyError's str is a repr
    source = CHECKOUT / 'src' / package
    if (source / 'package.xml').is_file() and (CHECKOUT / 'src' / BRINGUP).is_dir():
        return CHECKOUT if package == BRINGUP else source
    raise LookupError(
        f'{package}: not in the ament index ({index}) nor in a checkout at '
        f'{CHECKOUT}; after colcon build, source install/setup.bash'
    )
