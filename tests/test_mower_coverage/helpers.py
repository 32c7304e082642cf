"""Small lawns for the stage tests."""

from __future__ import annotations

import shapely

from mower_maps import LawnMap, map_from_geojson


def lawn_from(boundary, holes=(), dock=None, **props) -> LawnMap:
    """A lawn map from shapely geometries."""
    feats = [
        {
            'type': 'Feature',
            'properties': {'role': 'boundary', 'name': 'lawn'},
            'geometry': shapely.geometry.mapping(boundary),
        }
    ]
    for i, h in enumerate(holes):
        feats.append(
            {
                'type': 'Feature',
                'properties': {'role': 'obstacle', 'name': f'h{i}'},
                'geometry': shapely.geometry.mapping(h),
            }
        )
    if dock is not None:
        feats.append(
            {
                'type': 'Feature',
                'properties': {'role': 'dock', 'name': 'dock'},
                'geometry': {'type': 'Point', 'coordinates': list(dock)},
            }
        )
    return map_from_geojson({'type': 'FeatureCollection', 'properties': props, 'features': feats})
