"""Lawn maps for the mower stack: GeoJSON loading, validation and conversion (ROS-free)."""

from mower_maps.dock import DockCheck, dock_rule
from mower_maps.lawn_map import (
    Dock,
    Feature,
    LawnMap,
    MapError,
    MowingSettings,
    load_map,
    map_from_geojson,
    map_to_geojson,
    parse_map,
)

__all__ = [
    'Dock',
    'DockCheck',
    'Feature',
    'LawnMap',
    'MapError',
    'MowingSettings',
    'dock_rule',
    'load_map',
    'map_from_geojson',
    'map_to_geojson',
    'parse_map',
]
