"""WGS84 longitude/latitude to the map's local metric frame, and back (pyproj / PROJ).

The local frame is a transverse Mercator projection of the WGS84 ellipsoid centred on the datum
(``+proj=tmerc +lat_0=LAT0 +lon_0=LON0 +k_0=1``): x east, y north, in metres, the datum at
(0, 0). It is conformal (angles and headings are kept), and within
:data:`MAX_DATUM_DISTANCE_M` of the datum its scale differs from 1 by less than 1.3e-6 (lengths)
and 2.5e-6 (areas): far below RTK-GNSS accuracy. Farther away the flat frame no longer
describes the ground well enough, so a map whose lawn lies farther than that from its datum is
refused (``mower_maps.lawn_map``).

Coordinates outside [-180, 180] (longitude) or [-90, 90] (latitude) raise ``ValueError``.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
from pyproj import CRS, Transformer

#: A lawn farther than this from its datum is refused (metres); the same limit bounds an ENU
#: map's coordinates from their origin.
MAX_DATUM_DISTANCE_M = 10_000.0


def check_lon_lat(lon_deg: float, lat_deg: float) -> None:
    """Raise ``ValueError`` unless (lon, lat) are finite WGS84 degrees in range."""
    if not (math.isfinite(lon_deg) and -180.0 <= lon_deg <= 180.0):
        raise ValueError(f'longitude {lon_deg!r} is outside [-180, 180] degrees')
    if not (math.isfinite(lat_deg) and -90.0 <= lat_deg <= 90.0):
        raise ValueError(f'latitude {lat_deg!r} is outside [-90, 90] degrees')


@lru_cache(maxsize=16)
def _transformer(lon0_deg: float, lat0_deg: float) -> Transformer:
    check_lon_lat(lon0_deg, lat0_deg)
    local = CRS.from_proj4(
        f'+proj=tmerc +lat_0={lat0_deg!r} +lon_0={lon0_deg!r} +k_0=1 '
        '+x_0=0 +y_0=0 +ellps=WGS84 +units=m +no_defs'
    )
    return Transformer.from_crs('EPSG:4326', local, always_xy=True)


def wgs84_to_enu(
    lon_deg: float, lat_deg: float, lon0_deg: float, lat0_deg: float
) -> tuple[float, float]:
    """East and north (metres) of a WGS84 point in the local frame of the datum (lon0, lat0)."""
    check_lon_lat(lon_deg, lat_deg)
    east, north = _transformer(float(lon0_deg), float(lat0_deg)).transform(lon_deg, lat_deg)
    return float(east), float(north)


def wgs84_to_enu_array(lon_lat_deg: np.ndarray, lon0_deg: float, lat0_deg: float) -> np.ndarray:
    """(N, 2) east, north of (N, 2) WGS84 (lon, lat) points: :func:`wgs84_to_enu` for many."""
    ll = np.asarray(lon_lat_deg, dtype=float).reshape(-1, 2)
    for lon, lat in ll[~((np.abs(ll[:, 0]) <= 180.0) & (np.abs(ll[:, 1]) <= 90.0))][:1]:
        check_lon_lat(float(lon), float(lat))  # raises, naming the first bad one
    east, north = _transformer(float(lon0_deg), float(lat0_deg)).transform(ll[:, 0], ll[:, 1])
    return np.column_stack([east, north])


def enu_to_wgs84(
    east_m: float, north_m: float, lon0_deg: float, lat0_deg: float
) -> tuple[float, float]:
    """The inverse of :func:`wgs84_to_enu`: (lon, lat) in degrees."""
    lon, lat = _transformer(float(lon0_deg), float(lat0_deg)).transform(
        east_m, north_m, direction='INVERSE'
    )
    return float(lon), float(lat)
