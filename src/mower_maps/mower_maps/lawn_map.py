"""Lawn maps: GeoJSON in a local metric ENU frame (or WGS84 with a datum), validated.

A map is a GeoJSON FeatureCollection. Every feature carries ``properties.role``:

``boundary``  Polygon or MultiPolygon: a mowable area (one or more).
``keepout``   Polygon: never entered (flower beds, ponds, patios).
``obstacle``  Polygon, or Point with ``properties.radius_m``: a fixed object (tree, post, shed).
``dock``      Point with ``properties.heading_deg`` (ENU, counter-clockwise from east).
``navigation`` Polygon or MultiPolygon: a drive-only corridor (a path between two lawns, a gate)
              that the planner may drive through but never mows. It may lie outside every
              boundary, but each of its parts must touch or overlap a boundary, directly or
              through other navigation areas (within :data:`NAVIGATION_TOUCH_M`), so that it
              leads somewhere. Keep-outs and obstacles win over it: they may lie in a corridor
              (outside every boundary) and are never entered.

The collection's own ``properties`` (a GeoJSON foreign member) name the frame and the mowing
settings::

    {"name": "demo lawn", "frame": "enu", "units": "m",
     "mowing": {"stripe_angle_deg": "auto", "headland_passes": 2, "angle_increment_deg": 0}}

Zones: every ``boundary`` feature is a mowing zone. ``properties.order`` (an integer from 1 to
:data:`MAX_ZONE_ORDER`, optional) sets the zones' order: zones are numbered 1, 2, ... by
ascending order, boundaries without one after those with one, in file order; two boundaries
with the same order are refused. ``properties.mowing`` (optional, the keys of the collection's
``mowing``) overrides the collection's settings when that zone is mowed
(:meth:`LawnMap.zone_settings`)::

    {"type": "Feature", "properties": {"role": "boundary", "name": "front", "order": 2,
     "mowing": {"stripe_angle_deg": 30, "headland_passes": 3}}, "geometry": {...}}

With ``"frame": "wgs84"`` coordinates are ``[lon, lat]`` degrees and ``"datum": [lon, lat]``
is required: it becomes the origin of the local ENU frame (the same datum that
robot_localization's navsat_transform uses on the robot), projected with pyproj
(:mod:`mower_maps.geodesy`).

The stack works in the map's own frame, in metres, with float32 in places (the simulator's
renderer): every coordinate must lie within :data:`MAX_ORIGIN_DISTANCE_M` (10 km) of the frame's
origin, ``(0, 0)`` of an ENU map or the datum of a WGS84 one. A map in UTM-sized coordinates
(500,000 / 5,000,000) is refused with a message asking for a local origin or a datum; it is not
shifted silently (the robot's localisation would then disagree with the map).

The dock must satisfy the one dock rule of :mod:`mower_maps.dock` (with the stack's default
robot); the planner and the safety geofence apply the same rule.

Every fault is reported as a :class:`MapError` that names the feature and the fault.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Point, Polygon, shape
from shapely.validation import explain_validity

from mower_maps.dock import dock_rule
from mower_maps.geodesy import MAX_DATUM_DISTANCE_M, check_lon_lat, wgs84_to_enu

ROLES = ('boundary', 'keepout', 'obstacle', 'dock', 'navigation')
#: A lawn larger than this (in either direction) is taken to be in the wrong units (mm, cm).
MAX_EXTENT_M = 20_000.0
#: A lawn smaller than this in both directions is taken to be in the wrong units (km, degrees).
MIN_EXTENT_M = 0.5
#: Every coordinate must lie this close to the frame's origin (ENU (0, 0), or the WGS84 datum).
MAX_ORIGIN_DISTANCE_M = MAX_DATUM_DISTANCE_M
#: The largest ``order`` a zone (boundary feature) may have.
MAX_ZONE_ORDER = 1000
#: A navigation area connects to a boundary (or another navigation area) this close, metres.
NAVIGATION_TOUCH_M = 1e-3


class MapError(ValueError):
    """A lawn map that cannot be used, with a message naming the feature and the fault."""


@dataclass(frozen=True)
class Feature:
    """One validated map feature, in the local ENU frame (metres)."""

    index: int
    role: str
    name: str
    geometry: Polygon | MultiPolygon | Point
    properties: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def label(self) -> str:
        """How messages refer to this feature: its index, name and role."""
        return f"feature {self.index} '{self.name}' ({self.role})"


@dataclass(frozen=True)
class Dock:
    """The charging dock: where the mower starts and ends, facing ``heading_rad``."""

    x_m: float
    y_m: float
    heading_rad: float


@dataclass(frozen=True)
class MowingSettings:
    """Mowing settings stored in the map; ``None`` means 'use the planner's default'."""

    stripe_angle_deg: float | None = None  # None: automatic
    headland_passes: int | None = None
    angle_increment_deg: float = 0.0


@dataclass(frozen=True)
class LawnMap:
    """A validated lawn map in the local ENU frame (metres)."""

    name: str
    features: tuple[Feature, ...]
    settings: MowingSettings
    dock: Dock | None = None
    source: str = ''

    def by_role(self, role: str) -> list[Feature]:
        """The features of one role, in file order."""
        return [f for f in self.features if f.role == role]

    @property
    def boundary(self) -> Polygon | MultiPolygon:
        """The union of all boundary features."""
        return shapely.union_all([f.geometry for f in self.by_role('boundary')])

    @property
    def holes(self) -> Polygon | MultiPolygon:
        """The union of keep-outs and obstacles (possibly empty)."""
        geoms = [f.geometry for f in self.features if f.role in ('keepout', 'obstacle')]
        return shapely.union_all(geoms) if geoms else Polygon()

    @property
    def navigation(self) -> Polygon | MultiPolygon:
        """The union of the navigation areas: drive-only corridors (possibly empty)."""
        geoms = [f.geometry for f in self.by_role('navigation')]
        return shapely.union_all(geoms) if geoms else Polygon()

    def mowable_area(self) -> Polygon | MultiPolygon:
        """Boundaries minus keep-outs minus obstacles (navigation areas are never mowed)."""
        return shapely.difference(self.boundary, self.holes)

    def drivable_area(self) -> Polygon | MultiPolygon:
        """Boundaries and navigation areas, minus keep-outs and obstacles.

        Without navigation areas: exactly :meth:`mowable_area`.
        """
        if self.navigation.is_empty:
            return self.mowable_area()
        return shapely.difference(shapely.union(self.boundary, self.navigation), self.holes)

    def with_obstacles(self, polygons: list[Polygon], name: str = 'detected') -> LawnMap:
        """A copy with extra obstacles (for example found by the camera) appended."""
        extra = tuple(
            Feature(len(self.features) + i, 'obstacle', f'{name} {i}', p, {'detected': True})
            for i, p in enumerate(polygons)
        )
        return LawnMap(self.name, self.features + extra, self.settings, self.dock, self.source)

    def blade_off_area(self) -> Polygon | MultiPolygon:
        """Where the blade must not run: navigation areas outside every lawn (maybe empty)."""
        nav = self.navigation
        return nav if nav.is_empty else shapely.difference(nav, self.boundary)

    @property
    def zones(self) -> list[Feature]:
        """The mowing zones: the boundary features in zone order (zone 1 is the first).

        By ascending ``properties.order``; boundaries without one come after, in file order.
        """
        return sorted(self.by_role('boundary'), key=_zone_key)

    def zone_settings(self, zone: int) -> MowingSettings:
        """The mowing settings of zone ``zone`` (1-based): its own over the map's.

        ``zone`` 0 (the whole map) has the map's settings. Raises :class:`MapError` for a zone
        the map does not have.
        """
        if zone == 0:
            return self.settings
        zones = self.zones
        if not 1 <= zone <= len(zones):
            raise MapError(f'{self.name}: no zone {zone} (the map has {len(zones)})')
        own = zones[zone - 1].properties.get('mowing')
        return _zone_settings(self.settings, own, f'{self.name}: {zones[zone - 1].label}')

    def zone_map(self, zone: int) -> LawnMap:
        """The map for mowing zone ``zone`` (1-based) alone.

        The other zones become navigation areas: the planner may drive through them (to reach
        the zone from the dock) but mows only the zone. ``zone`` 0 is the whole map. Raises
        :class:`MapError` for a zone the map does not have.
        """
        zones = self.zones
        if zone == 0:
            return self
        if not 1 <= zone <= len(zones):
            raise MapError(f'{self.name}: no zone {zone} (the map has {len(zones)})')
        keep = zones[zone - 1]
        features = tuple(
            replace(f, role='navigation') if f.role == 'boundary' and f is not keep else f
            for f in self.features
        )
        settings = self.zone_settings(zone)
        return LawnMap(f'{self.name} zone {zone}', features, settings, self.dock, self.source)


def _zone_key(feature: Feature) -> tuple[int, int]:
    """Zones sort by their order (none: after every ordered one), then by file order."""
    order = feature.properties.get('order')
    if isinstance(order, int) and not isinstance(order, bool):
        return order, feature.index
    return MAX_ZONE_ORDER + 1, feature.index


def _zone_settings(base: MowingSettings, own: Any, label: str) -> MowingSettings:
    """``base`` with a zone's own ``mowing`` keys over it (None: ``base``)."""
    if own is None:
        return base
    if not isinstance(own, dict):
        raise MapError(f'{label}: properties.mowing must be an object')
    parsed = _settings(own, label)
    return MowingSettings(
        parsed.stripe_angle_deg if 'stripe_angle_deg' in own else base.stripe_angle_deg,
        parsed.headland_passes if 'headland_passes' in own else base.headland_passes,
        parsed.angle_increment_deg if 'angle_increment_deg' in own else base.angle_increment_deg,
    )


def load_map(path: str | Path) -> LawnMap:
    """Read and validate a lawn map file; raise :class:`MapError` on any fault."""
    path = Path(path)
    try:
        text = path.read_text(encoding='utf-8')
    except FileNotFoundError:
        raise MapError(f'{path}: no such file') from None
    except (OSError, UnicodeDecodeError) as exc:
        raise MapError(f'{path}: cannot read: {exc}') from None
    return parse_map(text, source=str(path))


def parse_map(text: str, source: str = '<string>') -> LawnMap:
    """Parse and validate a lawn map from GeoJSON text."""
    if not text.strip():
        raise MapError(f'{source}: empty file, expected a GeoJSON FeatureCollection')
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise MapError(
            f'{source}: not JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})'
        ) from None
    except RecursionError:
        raise MapError(f'{source}: JSON nested too deeply to be a lawn map') from None
    try:
        return map_from_geojson(doc, source=source)
    except RecursionError:
        raise MapError(f'{source}: nested too deeply to be a lawn map') from None


def map_from_geojson(doc: Any, source: str = '<geojson>') -> LawnMap:
    """Validate a GeoJSON object (already parsed) and build a :class:`LawnMap`."""
    if not isinstance(doc, dict) or doc.get('type') != 'FeatureCollection':
        raise MapError(f'{source}: expected a GeoJSON FeatureCollection')
    raw_features = doc.get('features')
    if not isinstance(raw_features, list) or not raw_features:
        raise MapError(f'{source}: the FeatureCollection has no features')
    props = doc.get('properties') or {}
    if not isinstance(props, dict):
        raise MapError(f'{source}: collection properties must be an object')
    name = str(props.get('name') or Path(source).stem)
    to_enu = _frame_transform(props, source)
    settings = _settings(props.get('mowing') or {}, source)

    features: list[Feature] = []
    for index, raw in enumerate(raw_features):
        features.append(_feature(index, raw, to_enu, source))

    _check_units(features, props, source)
    _check_zones(features, settings, source)
    _check_origin(features, props, source)
    _check_relations(features, source)
    docks = [f for f in features if f.role == 'dock']
    dock = None
    if docks:
        d = docks[0]
        heading = float(d.properties.get('heading_deg', 0.0))
        dock = Dock(d.geometry.x, d.geometry.y, math.radians(heading))
    lawn = LawnMap(name, tuple(features), settings, dock, source)
    check = dock_rule(lawn)
    if check is not None and not check.ok:
        raise MapError(f'{source}: {check.problem}')
    return lawn


def _check_zones(features: list[Feature], settings: MowingSettings, source: str) -> None:
    """Each boundary's ``order`` (an integer, unique) and ``mowing`` (valid settings)."""
    seen: dict[int, Feature] = {}
    for f in features:
        if f.role != 'boundary':
            continue
        order = f.properties.get('order')
        if order is not None:
            if (
                not isinstance(order, int)
                or isinstance(order, bool)
                or not 1 <= order <= MAX_ZONE_ORDER
            ):
                raise MapError(
                    f'{source}: {f.label}: order must be an integer from 1 to '
                    f'{MAX_ZONE_ORDER}, got {order!r}'
                )
            if order in seen:
                raise MapError(
                    f'{source}: {f.label}: order {order} is also the order of '
                    f'{seen[order].label}; each zone needs its own'
                )
            seen[order] = f
        _zone_settings(settings, f.properties.get('mowing'), f'{source}: {f.label}')


def _frame_transform(props: dict[str, Any], source: str):
    frame = str(props.get('frame', 'enu')).lower()
    units = str(props.get('units', 'm')).lower()
    if frame == 'enu':
        if units not in ('m', 'metre', 'meter', 'metres', 'meters'):
            raise MapError(f"{source}: wrong units '{units}': ENU maps are in metres (units: 'm')")
        return None
    if frame == 'wgs84':
        datum = props.get('datum')
        if (
            not isinstance(datum, (list, tuple))
            or len(datum) < 2
            or not all(isinstance(v, (int, float)) for v in datum[:2])
        ):
            raise MapError(
                f'{source}: frame wgs84 needs properties.datum = [lon, lat] (the ENU origin)'
            )
        lon0, lat0 = float(datum[0]), float(datum[1])
        if not (-180.0 <= lon0 <= 180.0 and -90.0 <= lat0 <= 90.0):
            raise MapError(f'{source}: datum {datum} is not a WGS84 [lon, lat] in degrees')
        return lambda lon, lat: wgs84_to_enu(lon, lat, lon0, lat0)
    raise MapError(f"{source}: unknown frame '{frame}' (expected 'enu' or 'wgs84')")


#: The keys a ``mowing`` object may have (the map's and each zone's).
MOWING_KEYS = ('stripe_angle_deg', 'headland_passes', 'angle_increment_deg')


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _settings(raw: Any, source: str) -> MowingSettings:
    if not isinstance(raw, dict):
        raise MapError(f'{source}: properties.mowing must be an object')
    unknown = sorted(set(raw) - set(MOWING_KEYS))
    if unknown:
        raise MapError(
            f'{source}: mowing has unknown setting(s) {", ".join(map(repr, unknown))} '
            f'(expected {", ".join(MOWING_KEYS)})'
        )
    angle = raw.get('stripe_angle_deg', 'auto')
    if angle == 'auto' or angle is None:
        angle_value = None
    elif _number(angle) and abs(angle) <= 360.0:
        angle_value = float(angle)
    else:
        raise MapError(
            f"{source}: mowing.stripe_angle_deg must be 'auto' or a number from -360 to 360, "
            f'got {angle!r}'
        )
    passes = raw.get('headland_passes')
    if passes is not None and (
        not isinstance(passes, int) or isinstance(passes, bool) or not 1 <= passes <= 20
    ):
        raise MapError(f'{source}: mowing.headland_passes must be an integer from 1 to 20')
    inc = raw.get('angle_increment_deg', 0.0)
    if not _number(inc) or abs(inc) > 180.0:
        raise MapError(
            f'{source}: mowing.angle_increment_deg must be a number from -180 to 180, got {inc!r}'
        )
    return MowingSettings(angle_value, passes, float(inc))


def _feature(index: int, raw: Any, to_enu, source: str) -> Feature:
    if not isinstance(raw, dict) or raw.get('type') != 'Feature':
        raise MapError(f'{source}: feature {index}: not a GeoJSON Feature')
    props = raw.get('properties') or {}
    if not isinstance(props, dict):
        raise MapError(f'{source}: feature {index}: properties must be an object')
    role = props.get('role')
    name = str(props.get('name') or raw.get('id') or f'#{index}')
    label = f"feature {index} '{name}'"
    if role not in ROLES:
        raise MapError(
            f'{source}: {label}: unknown or missing role {role!r} (expected one of {ROLES})'
        )
    label = f'{label} ({role})'
    geom_raw = raw.get('geometry')
    if not isinstance(geom_raw, dict) or 'type' not in geom_raw:
        raise MapError(f'{source}: {label}: missing geometry')
    gtype = geom_raw['type']
    allowed = {
        'boundary': ('Polygon', 'MultiPolygon'),
        'keepout': ('Polygon', 'MultiPolygon'),
        'obstacle': ('Polygon', 'MultiPolygon', 'Point'),
        'dock': ('Point',),
        'navigation': ('Polygon', 'MultiPolygon'),
    }[role]
    if gtype not in allowed:
        raise MapError(f'{source}: {label}: geometry {gtype} not allowed (expected {allowed})')
    coords = geom_raw.get('coordinates')
    _check_coordinates(coords, gtype, label, source, geographic=to_enu is not None)
    if to_enu is not None:
        coords = _map_coords(coords, to_enu)
        geom_raw = {'type': gtype, 'coordinates': coords}
    else:
        geom_raw = {'type': gtype, 'coordinates': _map_coords(coords, lambda x, y: (x, y))}
    geom = shape(geom_raw)
    if gtype == 'Point':
        if role == 'obstacle':
            radius = props.get('radius_m')
            if not isinstance(radius, (int, float)) or not 0.0 < radius < 100.0:
                raise MapError(
                    f'{source}: {label}: a Point obstacle needs properties.radius_m (metres, > 0)'
                )
            geom = geom.buffer(float(radius), quad_segs=8)
        return Feature(index, role, name, geom, props)
    if not geom.is_valid:
        reason = explain_validity(geom)
        kind = 'self-intersecting ring' if 'Self-intersection' in reason else 'invalid polygon'
        raise MapError(f'{source}: {label}: {kind}: {reason}')
    if geom.area <= 0.0:
        raise MapError(f'{source}: {label}: polygon has zero area')
    return Feature(index, role, name, geom, props)


def _check_coordinates(
    coords: Any, gtype: str, label: str, source: str, geographic: bool = False
) -> None:
    """Check nesting, numbers, WGS84 ranges (``geographic``) and closed rings."""

    def position(p: Any) -> None:
        _check_position(p, label, source, geographic)

    def ring(r: Any, which: str) -> None:
        if not isinstance(r, (list, tuple)) or len(r) < 4:
            raise MapError(f'{source}: {label}: {which} ring needs at least 4 positions')
        for p in r:
            position(p)
        if list(r[0][:2]) != list(r[-1][:2]):
            raise MapError(
                f'{source}: {label}: unclosed ring ({which}): first position {r[0][:2]} '
                f'differs from last {r[-1][:2]}'
            )

    def polygon(rings: Any) -> None:
        if not isinstance(rings, (list, tuple)) or not rings:
            raise MapError(f'{source}: {label}: polygon has no rings')
        for i, r in enumerate(rings):
            ring(r, 'exterior' if i == 0 else f'hole {i}')

    if gtype == 'Point':
        position(coords)
    elif gtype == 'Polygon':
        polygon(coords)
    else:
        if not isinstance(coords, (list, tuple)) or not coords:
            raise MapError(f'{source}: {label}: MultiPolygon has no polygons')
        for poly in coords:
            polygon(poly)


def _check_position(p: Any, label: str, source: str, geographic: bool) -> None:
    """One position: two finite numbers; WGS84 degrees in range when ``geographic``."""
    if (
        not isinstance(p, (list, tuple))
        or len(p) < 2
        or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in p[:2])
        or not all(math.isfinite(v) for v in p[:2])
    ):
        raise MapError(f'{source}: {label}: bad position {p!r} (expected [x, y] numbers)')
    if geographic:
        try:
            check_lon_lat(p[0], p[1])
        except ValueError as exc:
            raise MapError(
                f'{source}: {label}: position {list(p[:2])} is not a WGS84 [lon, lat]: {exc}'
            ) from None


def _map_coords(coords: Any, fn) -> Any:
    if isinstance(coords[0], (int, float)):
        x, y = fn(float(coords[0]), float(coords[1]))
        return [x, y]
    return [_map_coords(c, fn) for c in coords]


def _check_units(features: list[Feature], props: dict[str, Any], source: str) -> None:
    boundaries = [f for f in features if f.role == 'boundary']
    if not boundaries:
        raise MapError(f'{source}: no boundary feature: a map needs at least one mowable area')
    minx, miny, maxx, maxy = shapely.union_all([f.geometry for f in boundaries]).bounds
    extent = max(maxx - minx, maxy - miny)
    frame = str(props.get('frame', 'enu')).lower()
    if frame == 'enu' and extent < MIN_EXTENT_M:
        if all(abs(v) <= 180.0 for v in (minx, maxx)) and all(abs(v) <= 90 for v in (miny, maxy)):
            hint = 'they look like WGS84 degrees: set frame "wgs84" and a datum'
        else:
            hint = 'expected metres'
        raise MapError(f'{source}: wrong units: the boundaries span only {extent:.3g} m; {hint}')
    if extent > MAX_EXTENT_M:
        raise MapError(
            f'{source}: wrong units: the boundaries span {extent:.0f} m; '
            'expected metres (is it in millimetres or centimetres?)'
        )


def _check_origin(features: list[Feature], props: dict[str, Any], source: str) -> None:
    """Every coordinate within MAX_ORIGIN_DISTANCE_M of the frame's origin (or the datum)."""
    xy = shapely.get_coordinates([f.geometry for f in features])
    far = float(np.hypot(xy[:, 0], xy[:, 1]).max()) if len(xy) else 0.0
    if far <= MAX_ORIGIN_DISTANCE_M:
        return
    limit = f'{MAX_ORIGIN_DISTANCE_M / 1000:g} km'
    if str(props.get('frame', 'enu')).lower() == 'wgs84':
        lon, lat = props['datum'][:2]
        raise MapError(
            f'{source}: the lawn lies up to {far / 1000:,.1f} km from the datum [{lon}, {lat}]; '
            f'the datum must be within {limit} of every point of the map: put it on the lawn'
        )
    x, y = (float(v) for v in xy[int(np.argmax(np.hypot(xy[:, 0], xy[:, 1])))])
    raise MapError(
        f'{source}: coordinates up to {far:,.0f} m from the origin (0, 0), e.g. '
        f'[{x:.1f}, {y:.1f}]; an ENU map must stay within {limit} of its origin: subtract a '
        'local origin near the lawn from every coordinate, or use frame "wgs84" with a datum'
    )


def _check_relations(features: list[Feature], source: str) -> None:
    boundaries = [f for f in features if f.role == 'boundary']
    for i, a in enumerate(boundaries):
        for b in boundaries[i + 1 :]:
            overlap = a.geometry.intersection(b.geometry).area
            if overlap > 1e-6:
                raise MapError(
                    f'{source}: {b.label} overlaps {a.label} by {overlap:.2f} m² '
                    '(boundaries must not overlap; merge them or cut one)'
                )
    lawn = shapely.union_all([f.geometry for f in boundaries])
    navigation = [f for f in features if f.role == 'navigation']
    _check_navigation(lawn, navigation, source)
    where = lawn
    outside = 'lies outside every boundary'
    if navigation:
        where = shapely.union_all([lawn] + [f.geometry for f in navigation])
        outside = 'lies outside every boundary and every navigation area'
    for f in features:
        if f.role in ('keepout', 'obstacle'):
            if not f.geometry.intersects(where) or f.geometry.intersection(where).area <= 0.0:
                raise MapError(f'{source}: {f.label} {outside}')
        elif f.role == 'dock':  # where it may stand: the dock rule, once the map is built
            heading = f.properties.get('heading_deg', 0.0)
            if not isinstance(heading, (int, float)) or not math.isfinite(heading):
                raise MapError(f'{source}: {f.label}: heading_deg must be a number')
    if len([f for f in features if f.role == 'dock']) > 1:
        raise MapError(f'{source}: more than one dock')


def _check_navigation(lawn: Any, navigation: list[Feature], source: str) -> None:
    """Every part of every navigation area leads to a boundary, perhaps through others."""
    pending = [
        (f, i, part)
        for f in navigation
        for i, part in enumerate(getattr(f.geometry, 'geoms', [f.geometry]))
    ]
    reached = [lawn]
    while pending:
        tree = shapely.STRtree(reached)
        joined = [
            item
            for item in pending
            if len(tree.query(item[2], predicate='dwithin', distance=NAVIGATION_TOUCH_M))
        ]
        if not joined:
            break
        reached.extend(part for _, _, part in joined)
        pending = [item for item in pending if all(item is not j for j in joined)]
    if pending:
        f, i, part = pending[0]
        which = f' (part {i})' if isinstance(f.geometry, MultiPolygon) else ''
        gap = float(shapely.union_all(reached).distance(part))
        raise MapError(
            f'{source}: {f.label}{which} is not connected: it lies {gap:.2f} m from every '
            'boundary and every navigation area that leads to one; a drive-only corridor '
            'must touch or overlap a lawn, directly or through other corridors'
        )


def map_to_geojson(lawn: LawnMap) -> dict[str, Any]:
    """The map as an ENU GeoJSON object (the inverse of :func:`map_from_geojson`)."""
    feats = []
    for f in lawn.features:
        props = dict(f.properties)
        props['role'] = f.role
        props['name'] = f.name
        geom = f.geometry
        if f.role == 'obstacle' and 'radius_m' in props:
            props.pop('radius_m')
        feats.append(
            {'type': 'Feature', 'properties': props, 'geometry': shapely.geometry.mapping(geom)}
        )
    s = lawn.settings
    mowing: dict[str, Any] = {
        'stripe_angle_deg': 'auto' if s.stripe_angle_deg is None else s.stripe_angle_deg,
        'angle_increment_deg': s.angle_increment_deg,
    }
    if s.headland_passes is not None:
        mowing['headland_passes'] = s.headland_passes
    return {
        'type': 'FeatureCollection',
        'properties': {'name': lawn.name, 'frame': 'enu', 'units': 'm', 'mowing': mowing},
        'features': feats,
    }
