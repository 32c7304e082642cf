"""Draft lawn maps: what teach mode and discovery propose, written for the owner to accept.

A :class:`DraftMap` holds the polygons a drive produced (boundaries, keep-outs, obstacles,
navigation corridors), the dock's pose, a confidence for every edge where the camera's sightings
give one, where it came from (``'teach'`` or ``'discovery'``) and what went wrong on the way
(warnings). :meth:`DraftMap.write` turns it into a map in the project's format
(:mod:`mower_maps.lawn_map`) and a PNG preview:

* The GeoJSON is ordinary: the collection's ``properties`` add ``draft: true``,
  ``provenance`` and ``warnings``; every feature's ``properties`` add ``draft: true``,
  ``confidence`` (the length-weighted mean of its edges' confidences in [0, 1], or ``null``)
  and ``edge_confidence`` (one list per ring, as in the geometry's coordinates: one value per
  segment, the segment from coordinate ``i`` to ``i + 1``; ``null`` when not known), and
  ``kind`` where the polygon's is known (``ground``: a keep-out the camera saw as flat
  ground, :data:`mower_maps.lawn_polygons.GROUND_KIND`). The features come in the order
  boundaries, navigation areas, keep-outs, obstacles, dock.
* It is checked as every map is (:func:`mower_maps.lawn_map.map_from_geojson`, so the checks
  of ``load_map`` and ``mower map check``). A draft that passes is written to the path asked
  for; one that does not is written to ``<name>.rejected.geojson`` beside it, with its faults
  in ``properties.faults``, so nothing recorded is lost, and the result lists every fault it
  can find (each keep-out, obstacle and the dock is checked against the boundaries on its
  own, so one bad bed does not hide another).
* The preview (``<name>.png``, or ``<name>.rejected.png``) shows the lawn filled green,
  keep-outs, obstacles, navigation areas hatched, the dock and its heading, edges coloured by
  confidence, a scale bar, and the faults and warnings.

Files are written atomically (:func:`mower_maps.safe_files.atomic_write_bytes`): a power cut
leaves the old file or the new one. Nothing is mowed on a draft until the owner accepts it
(that is the mission's business, not this module's). ROS-free: shapely, numpy, matplotlib.
"""

from __future__ import annotations

import io
import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from shapely.geometry import Polygon
from shapely.geometry.polygon import orient

from mower_maps.lawn_map import LawnMap, MapError, map_from_geojson
from mower_maps.lawn_polygons import EdgedPolygon, ExtractionParams, LawnPolygons, lawn_polygons
from mower_maps.safe_files import atomic_write_bytes

__all__ = [
    'DISCOVERY_EXTRACTION',
    'PROVENANCES',
    'DraftMap',
    'DraftWrite',
    'discovery_draft',
    'rejected_path',
]

#: Where a draft may come from.
PROVENANCES = ('teach', 'discovery')
#: Decimals of the confidences written to the file.
_DECIMALS = 3
#: How a discovered grid becomes polygons: the part at the mower's first safe point, with
#: necks and inlets of the semantic grid's noise (a quarter metre) closed and opened.
DISCOVERY_EXTRACTION = ExtractionParams(keep='seed', clean_m=0.25)
#: The semantic grid's classes (mower_mapping.semantic_grid): lawn, other ground, obstacle.
_LAWN, _OBSTACLE = 0, 2


@dataclass(frozen=True)
class DraftWrite:
    """What :meth:`DraftMap.write` did.

    ``path`` is the file written: the path asked for when the draft passed the map checks, or
    its ``*.rejected.geojson`` sibling; ``faults`` is empty when it passed; ``lawn`` is the
    checked map (None when rejected).
    """

    path: Path
    preview: Path | None
    faults: tuple[str, ...] = ()
    lawn: LawnMap | None = None

    @property
    def ok(self) -> bool:
        """The draft passed the map checks and was written where asked."""
        return not self.faults

    @property
    def message(self) -> str:
        """One line when it passed; otherwise the faults, one a line, and where it is kept."""
        if self.ok:
            return f'draft map written to {self.path}'
        lines = [f'draft map rejected by the map checks ({len(self.faults)} fault(s)):']
        lines += [f'  - {fault}' for fault in self.faults]
        lines.append(f'the draft is kept as {self.path}: fix it and check it again')
        return '\n'.join(lines)


def rejected_path(path: str | Path) -> Path:
    """Where a rejected draft for ``path`` is kept: ``a.geojson`` -> ``a.rejected.geojson``."""
    path = Path(path)
    suffix = path.suffix or '.geojson'
    return path.with_name(f'{path.stem if path.suffix else path.name}.rejected{suffix}')


@dataclass(frozen=True)
class DraftMap:
    """A proposed lawn map, in the local ENU frame (metres).

    The polygon fields take :class:`~mower_maps.lawn_polygons.EdgedPolygon` (a polygon with
    per-edge confidences) or bare shapely Polygons (confidence not known); lists are turned
    into tuples. ``dock`` is ``(x_m, y_m, heading_rad)`` (ENU, counter-clockwise from east).
    """

    boundaries: tuple[EdgedPolygon, ...]
    keepouts: tuple[EdgedPolygon, ...] = ()
    obstacles: tuple[EdgedPolygon, ...] = ()
    navigation: tuple[EdgedPolygon, ...] = ()
    dock: tuple[float, float, float] | None = None
    provenance: str = 'discovery'
    warnings: tuple[str, ...] = ()
    name: str = 'draft lawn'
    #: extra properties of the collection (merged under the draft's own)
    properties: dict[str, Any] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        """Normalise the polygon fields to tuples of EdgedPolygon; check provenance and dock."""
        if self.provenance not in PROVENANCES:
            raise ValueError(f'provenance must be one of {PROVENANCES}, not {self.provenance!r}')
        for name in ('boundaries', 'keepouts', 'obstacles', 'navigation'):
            object.__setattr__(self, name, tuple(_edged(g, name) for g in getattr(self, name)))
        object.__setattr__(self, 'warnings', tuple(str(w) for w in self.warnings))
        if self.dock is not None:
            dock = tuple(float(v) for v in self.dock)
            if len(dock) != 3 or not all(math.isfinite(v) for v in dock):
                raise ValueError(f'dock must be (x_m, y_m, heading_rad), finite, not {self.dock}')
            object.__setattr__(self, 'dock', dock)

    @classmethod
    def from_extraction(
        cls,
        found: LawnPolygons,
        *,
        dock: tuple[float, float, float] | None = None,
        navigation: Sequence[EdgedPolygon | Polygon] = (),
        provenance: str = 'discovery',
        warnings: Sequence[str] = (),
        name: str = 'draft lawn',
    ) -> DraftMap:
        """A draft of what :func:`~mower_maps.lawn_polygons.lawn_polygons` found.

        Its boundaries, keep-outs and obstacles; its warnings come first, then ``warnings``.
        """
        return cls(
            boundaries=found.boundaries,
            keepouts=found.keepouts,
            obstacles=found.obstacles,
            navigation=tuple(navigation),
            dock=dock,
            provenance=provenance,
            warnings=found.warnings + tuple(warnings),
            name=name,
        )

    # -- GeoJSON ------------------------------------------------------------------------------

    def to_geojson(self) -> dict[str, Any]:
        """The draft as a GeoJSON FeatureCollection in the map format (see the module)."""
        feats: list[dict[str, Any]] = []
        groups = (
            ('boundary', 'lawn', self.boundaries),
            ('navigation', 'corridor', self.navigation),
            ('keepout', 'keep-out', self.keepouts),
            ('obstacle', 'obstacle', self.obstacles),
        )
        for role, stem, items in groups:
            for i, item in enumerate(items, start=1):
                feats.append(_polygon_feature(role, f'{stem} {i}', item))
        if self.dock is not None:
            x, y, heading = self.dock
            feats.append(
                {
                    'type': 'Feature',
                    'properties': {
                        'role': 'dock',
                        'name': 'dock',
                        'heading_deg': round(math.degrees(heading), 6),
                        'draft': True,
                    },
                    'geometry': {'type': 'Point', 'coordinates': [x, y]},
                }
            )
        props: dict[str, Any] = dict(self.properties)
        props.update(
            {
                'name': self.name,
                'frame': 'enu',
                'units': 'm',
                'mowing': {'stripe_angle_deg': 'auto'},
                'draft': True,
                'provenance': self.provenance,
                'warnings': list(self.warnings),
            }
        )
        return {'type': 'FeatureCollection', 'properties': props, 'features': feats}

    def check(self, source: str = '<draft>') -> tuple[LawnMap | None, tuple[str, ...]]:
        """The map checks on the draft: (the map, ()) when it passes, else (None, faults).

        Every fault found is listed, each naming the feature (its index in
        :meth:`to_geojson`'s list) and the fault.
        """
        return _check(self.to_geojson(), source)

    def write(self, path: str | Path, preview: bool = True) -> DraftWrite:
        """Check the draft and write it, with a PNG preview beside it (atomically).

        Passed: written to ``path`` (and ``path`` with ``.png``). Rejected: written to
        :func:`rejected_path` with ``properties.faults`` (and its ``.png``); ``path`` is left
        as it was. The result says which, and :attr:`DraftWrite.message` lists the faults.
        """
        path = Path(path)
        doc = self.to_geojson()
        lawn, faults = _check(doc, str(path))
        target = path
        if faults:
            target = rejected_path(path)
            doc['properties']['faults'] = list(faults)
        text = json.dumps(doc, indent=1, allow_nan=False) + '\n'
        atomic_write_bytes(target, text.encode('utf-8'))
        png = None
        if preview:
            png = atomic_write_bytes(target.with_suffix('.png'), self.preview_png(faults))
        return DraftWrite(target, png, faults, lawn)

    # -- preview ------------------------------------------------------------------------------

    def preview_png(self, faults: Sequence[str] = (), dpi: int = 100) -> bytes:
        """The preview as PNG bytes (matplotlib's Agg renderer; no window, no pyplot state)."""
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        fig = Figure(figsize=(8.0, 6.5), dpi=dpi, layout='constrained')
        FigureCanvasAgg(fig)
        ax = fig.add_subplot()
        _draw(ax, fig, self, tuple(faults))
        buf = io.BytesIO()
        fig.savefig(buf, format='png', dpi=dpi)
        return buf.getvalue()


# -- helpers ----------------------------------------------------------------------------------


def _edged(item: EdgedPolygon | Polygon, field_name: str) -> EdgedPolygon:
    if isinstance(item, EdgedPolygon):
        return item
    if isinstance(item, Polygon):
        return EdgedPolygon(item)
    raise TypeError(f'{field_name}: expected an EdgedPolygon or a shapely Polygon, not {item!r}')


def _polygon_feature(role: str, name: str, item: EdgedPolygon) -> dict[str, Any]:
    conf = item.confidence
    edges = (
        None
        if item.edge_confidence is None
        else [[round(float(v), _DECIMALS) for v in ring] for ring in item.edge_confidence]
    )
    return {
        'type': 'Feature',
        'properties': {
            'role': role,
            'name': name,
            'draft': True,
            'confidence': None if conf is None else round(conf, _DECIMALS),
            'edge_confidence': edges,
            **({'kind': item.kind} if item.kind else {}),
        },
        'geometry': _polygon_geometry(item.polygon),
    }


def _polygon_geometry(poly: Polygon) -> dict[str, Any]:
    """GeoJSON of a polygon with its coordinates in their own order (the edges' order)."""
    rings = [poly.exterior, *poly.interiors]
    return {
        'type': 'Polygon',
        'coordinates': [[[float(x), float(y)] for x, y, *_ in r.coords] for r in rings],
    }


_FEATURE_INDEX = re.compile(r"feature (\d+) '")


def _check(doc: dict[str, Any], source: str) -> tuple[LawnMap | None, tuple[str, ...]]:
    """(map, ()) when ``doc`` passes the map checks, else (None, every fault found)."""
    try:
        return map_from_geojson(doc, source=source), ()
    except MapError as exc:
        first = str(exc)
    feats = doc['features']
    n_base = sum(1 for f in feats if f['properties']['role'] in ('boundary', 'navigation'))
    base = feats[:n_base]
    faults: list[str] = []
    try:
        map_from_geojson(_with_features(doc, base), source=source)
    except MapError as exc:
        faults.append(str(exc))
    else:  # each keep-out, obstacle and the dock on its own against the boundaries
        for index in range(n_base, len(feats)):
            try:
                map_from_geojson(_with_features(doc, base + [feats[index]]), source=source)
            except MapError as exc:
                faults.append(_FEATURE_INDEX.sub(_renumber(n_base, index), str(exc)))
    if first not in faults:
        faults.insert(0, first)
    return None, tuple(dict.fromkeys(faults))


def _with_features(doc: dict[str, Any], feats: list[dict[str, Any]]) -> dict[str, Any]:
    return {**doc, 'features': feats}


def _renumber(was: int, now: int):
    def sub(match: re.Match[str]) -> str:
        index = int(match.group(1))
        return f"feature {now if index == was else index} '"

    return sub


def _draw(ax: Any, fig: Any, draft: DraftMap, faults: tuple[str, ...]) -> None:
    """The preview's drawing (see the module docstring)."""
    from matplotlib.collections import LineCollection
    from matplotlib.lines import Line2D
    from matplotlib.offsetbox import AnchoredOffsetbox, AuxTransformBox, TextArea, VPacker
    from matplotlib.patches import Patch, Rectangle

    styles = {  # face, edge, hatch, label
        'boundary': ('#9fd67f', '#2f6b1f', None, 'lawn'),
        'navigation': ('#eeeeee', '#666666', '///', 'navigation (drive only)'),
        'keepout': ('#f2b8c6', '#a3334f', None, 'keep-out'),
        'obstacle': ('#8a6a4a', '#3d2b1a', None, 'obstacle'),
    }
    groups = (
        ('boundary', draft.boundaries),
        ('navigation', draft.navigation),
        ('keepout', draft.keepouts),
        ('obstacle', draft.obstacles),
    )
    segments: list[np.ndarray] = []
    values: list[float] = []
    unknown: list[np.ndarray] = []
    handles: list[Any] = []
    for role, items in groups:
        face, edge, hatch, label = styles[role]
        for item in items:
            ax.add_patch(_patch(item.polygon, face, edge if hatch else 'none', hatch))
            rings = [
                np.asarray(r.coords)[:, :2]
                for r in (item.polygon.exterior, *item.polygon.interiors)
            ]
            if item.edge_confidence is None:
                unknown.extend(rings)
                continue
            for ring, conf in zip(rings, item.edge_confidence, strict=True):
                segments.extend(np.stack([ring[:-1], ring[1:]], axis=1))
                values.extend(conf)
        if items:
            handles.append(Patch(facecolor=face, edgecolor=edge, hatch=hatch, label=label))
    if unknown:
        ax.add_collection(
            LineCollection(unknown, colors='#333333', linewidths=1.0, linestyles='--')
        )
        handles.append(Line2D([], [], color='#333333', ls='--', label='edge (no confidence)'))
    if segments:
        ax.add_collection(LineCollection(segments, colors='#222222', linewidths=4.0))
        lines = LineCollection(segments, cmap='RdYlGn', linewidths=2.5)
        lines.set_array(np.asarray(values))
        lines.set_clim(0.0, 1.0)
        ax.add_collection(lines)
        fig.colorbar(
            lines,
            ax=ax,
            location='bottom',
            shrink=0.6,
            aspect=40,
            label='edge confidence (how often and how closely it was seen)',
        )
    everything = [i.polygon for _, items in groups for i in items]
    if draft.dock is not None:
        everything.append(shapely.Point(draft.dock[:2]))
    bounds = shapely.union_all(everything).bounds if everything else (0.0, 0.0, 1.0, 1.0)
    minx, miny, maxx, maxy = bounds
    size = max(maxx - minx, maxy - miny, 1.0)
    if draft.dock is not None:
        x, y, heading = draft.dock
        arrow = 0.06 * size
        ax.plot([x], [y], marker='s', ms=9, color='#1f4e9c', ls='none')
        ax.annotate(
            '',
            xy=(x + arrow * math.cos(heading), y + arrow * math.sin(heading)),
            xytext=(x, y),
            arrowprops={'arrowstyle': '->', 'color': '#1f4e9c', 'lw': 2},
        )
        handles.append(
            Line2D([], [], marker='s', color='#1f4e9c', ls='none', label='dock (heading)')
        )
    pad = 0.05 * size
    ax.set_xlim(minx - pad, maxx + pad)
    ax.set_ylim(miny - pad, maxy + pad)
    ax.set_aspect('equal')
    ax.set_xlabel('x (m, east)')
    ax.set_ylabel('y (m, north)')
    ax.grid(True, lw=0.3, alpha=0.5)
    bar = _nice_length(0.2 * size)
    ruler = AuxTransformBox(ax.transData)  # a scale bar: a bar `bar` metres long, labelled
    ruler.add_artist(Rectangle((0.0, 0.0), bar, size / 120, color='black'))
    caption = TextArea(f'{bar:g} m', textprops={'fontsize': 9})
    ax.add_artist(
        AnchoredOffsetbox(
            'lower right',
            child=VPacker(children=[ruler, caption], align='center', pad=0, sep=3),
            pad=0.4,
            frameon=True,
        )
    )
    if handles:
        fig.legend(handles=handles, loc='outside right upper', fontsize=8)
    lawn = shapely.union_all([b.polygon for b in draft.boundaries]) if draft.boundaries else None
    holes = [i.polygon for i in draft.keepouts + draft.obstacles]
    mowable = 0.0
    if lawn is not None:
        mowable = float(lawn.difference(shapely.union_all(holes)).area if holes else lawn.area)
    status = f'REJECTED ({len(faults)} fault(s))' if faults else 'draft: check, then accept'
    ax.set_title(
        f'{draft.name}: from {draft.provenance}, {status}\n'
        f'mowable {mowable:.1f} m², {len(draft.boundaries)} lawn(s), '
        f'{len(draft.keepouts)} keep-out(s), {len(draft.obstacles)} obstacle(s), '
        f'{len(draft.navigation)} corridor(s)',
        color='#b00020' if faults else 'black',
        fontsize=10,
    )
    notes = [f'fault: {f}' for f in faults] + [f'warning: {w}' for w in draft.warnings]
    if notes:
        shown = notes[:6] + ([f'... and {len(notes) - 6} more'] if len(notes) > 6 else [])
        text = '\n'.join(_shorten(n, 110) for n in shown)
        fig.supxlabel(text, x=0.01, ha='left', fontsize=7, color='#444444')


def _patch(poly: Polygon, face: str, edge: str, hatch: str | None) -> Any:
    """A matplotlib patch of a polygon with its holes."""
    from matplotlib.patches import PathPatch
    from matplotlib.path import Path as MplPath

    poly = orient(poly, 1.0)  # exterior counter-clockwise, holes clockwise: holes stay empty
    verts: list[np.ndarray] = []
    codes: list[np.ndarray] = []
    for ring in (poly.exterior, *poly.interiors):
        xy = np.asarray(ring.coords)[:, :2]
        c = np.full(len(xy), MplPath.LINETO)
        c[0], c[-1] = MplPath.MOVETO, MplPath.CLOSEPOLY
        verts.append(xy)
        codes.append(c)
    path = MplPath(np.concatenate(verts), np.concatenate(codes))
    return PathPatch(path, facecolor=face, edgecolor=edge, hatch=hatch, lw=0.8)


def _nice_length(x: float) -> float:
    """The largest 1, 2 or 5 times a power of ten not above ``x`` (a scale bar's length)."""
    power = 10.0 ** math.floor(math.log10(x))
    return max(m for m in (1.0, 2.0, 5.0) if m * power <= x) * power


def _shorten(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 3] + '...'


def discovery_draft(
    class_map: np.ndarray,
    origin: tuple[float, float] | np.ndarray,
    res: float,
    *,
    seed_xy: tuple[float, float],
    dock: tuple[float, float, float] | None,
    params: ExtractionParams = DISCOVERY_EXTRACTION,
    seen: np.ndarray | None = None,
    obstacle_mask: np.ndarray | None = None,
) -> tuple[LawnPolygons, DraftMap]:
    """The lawn a discovery found in the semantic grid's ``class_map``, and its draft map.

    ``class_map`` holds the grid's classes (0 lawn, 1 other ground, 2 obstacle, 255 unknown),
    row = y, ``origin`` the lower-left corner of cell (0, 0). The lawn part at ``seed_xy`` (the
    explorer's first safe point) is kept; ``seen`` (sightings per cell) gives the edges their
    confidence; ``obstacle_mask`` (default: the obstacle cells) makes holes obstacles. The
    simulator's discovery run and mission_node's ``mower/discover`` both call it. Raises
    :class:`~mower_maps.lawn_polygons.ExtractionError` when no lawn is at the seed.
    """
    cm = np.asarray(class_map)
    found = lawn_polygons(
        cm == _LAWN,
        origin,
        res,
        params,
        seed_xy=(float(seed_xy[0]), float(seed_xy[1])),
        seen=seen,
        obstacle_mask=cm == _OBSTACLE if obstacle_mask is None else obstacle_mask,
    )
    draft = DraftMap.from_extraction(
        found, dock=dock, provenance='discovery', name='discovered lawn'
    )
    return found, draft
