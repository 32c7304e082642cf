"""WGS84 longitude/latitude to a local ENU tangent plane, and back.

Written here rather than taking pyproj (a large native dependency) because a lawn needs only a
local tangent plane at its datum: with the WGS84 ellipsoid's meridian and prime-vertical radii at
the datum latitude, the error is about d²/(2R): under 1 mm at 100 m and about 2 cm at 500 m
from the datum, well below RTK-GNSS accuracy for a garden.
"""

from __future__ import annotations

import math

WGS84_A_M = 6378137.0  # semi-major axis, metres
WGS84_F = 1.0 / 298.257223563  # flattening
_E2 = WGS84_F * (2.0 - WGS84_F)  # first eccentricity squared


def _radii(lat0_deg: float) -> tuple[float, float]:
    """Meridian (north) and prime-vertical (east) radii of curvature at a latitude, metres."""
    s = math.sin(math.radians(lat0_deg))
    w = math.sqrt(1.0 - _E2 * s * s)
    r_north = WGS84_A_M * (1.0 - _E2) / (w ** 3)
    r_east = WGS84_A_M / w
    return r_north, r_east


def wgs84_to_enu(lon_deg: float, lat_deg: float, lon0_deg: float, lat0_deg: float
                 ) -> tuple[float, float]:
    """East and north offsets (metres) of a WGS84 point from the datum ``(lon0, lat0)``."""
    r_north, r_east = _radii(lat0_deg)
    east = math.radians(lon_deg - lon0_deg) * r_east * math.cos(math.radians(lat0_deg))
    north = math.radians(lat_deg - lat0_deg) * r_north
    return east, north


def enu_to_wgs84(east_m: float, north_m: float, lon0_deg: float, lat0_deg: float
                 ) -> tuple[float, float]:
    """The inverse of :func:`wgs84_to_enu`: (lon, lat) in degrees."""
    r_north, r_east = _radii(lat0_deg)
    lat = lat0_deg + math.degrees(north_m / r_north)
    lon = lon0_deg + math.degrees(east_m / (r_east * math.cos(math.radians(lat0_deg))))
    return lon, lat
