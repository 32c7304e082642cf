"""MuJoCo scenes generated from lawn maps: ground, lawn, beds, obstacles and the mower.

Every geom's name starts with its ground-truth class (``lawn_``, ``other_``, ``obst_``, or
``robot_``), which is how segmentation rendering becomes per-pixel labels.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from xml.sax.saxutils import quoteattr

import numpy as np
import shapely
from shapely.geometry import Polygon

from mower_maps import LawnMap
from mower_sim.textures import (
    GARDEN_GROUNDS,
    foliage_texture,
    garden_texture,
    ground_texture,
    png_bytes,
)

#: Class ids of the label images (mono8), shared with segmentation.
LABELS = {'lawn': 0, 'other': 1, 'obstacle': 2, 'sky': 3}
IGNORE = 255  # the mower's own body, if ever in view

#: Heights (m) of obstacle kinds when the map gives none.
DEFAULT_HEIGHT_M = {
    'tree': 3.0,
    'post': 1.2,
    'shed': 2.2,
    'playhouse': 1.8,
    'bench': 0.8,
    'rock': 0.35,
    'toy': 0.25,
    'pet': 0.3,
    'hose': 0.03,
    'furniture': 0.75,
}
KEEPOUT_TEXTURE = {
    'flower_bed': 'mulch',
    'pond': 'water',
    'paving': 'paving',
    'soil': 'soil',
    'hedge': 'soil',
    'gravel': 'gravel',
}


@dataclass(frozen=True)
class MowerConfig:
    """The simulated mower: a round differential-drive body, as the planner's disc footprint."""

    body_radius_m: float = 0.20
    body_height_m: float = 0.14
    body_mass_kg: float = 6.0
    battery_mass_kg: float = 3.0  # ahead of the axle, so the mower rests on its front caster
    wheel_radius_m: float = 0.09
    wheel_width_m: float = 0.04
    wheel_track_m: float = 0.32  # distance between the wheel centres
    wheel_mass_kg: float = 0.6
    motor_torque_nm: float = 3.0  # per wheel, stall
    max_wheel_speed_rad_s: float = 12.0  # 1.08 m/s at the wheel rim
    motor_kv: float = 1.0  # velocity servo gain (N m s / rad)
    max_wheel_accel_rad_s2: float = 15.0  # ramp of the motor board (1.35 m/s² at the rim)
    wheel_friction: float = 0.9  # on grass; slip appears at higher torques
    caster_x_m: float = 0.14
    cut_width_m: float = 0.22
    camera_x_m: float = 0.15
    camera_z_m: float = 0.38  # height above the ground
    camera_pitch_deg: float = 25.0  # down from horizontal
    camera_fovy_deg: float = 60.0
    image_width: int = 320
    image_height: int = 240


@dataclass(frozen=True)
class HiddenObstacle:
    """An obstacle that is in the world but not in the map file (only the camera finds it)."""

    kind: str  # rock, toy, pet, hose, post, furniture
    x_m: float
    y_m: float
    size_m: float = 0.3  # footprint diameter (length for a hose)
    yaw_rad: float = 0.0


@dataclass(frozen=True)
class WorldConfig:
    """What goes in the scene besides the map."""

    hidden: tuple[HiddenObstacle, ...] = ()
    randomise: bool = False  # domain randomisation of textures and light
    #: training frames that look like a real garden: varied grass and ground, shadows (sun,
    #: mower, trees and a house beside the lawn), sky from clear to overcast, low sun. Slower
    #: to render; the live simulator leaves it off.
    garden: bool = False
    timestep_s: float = 0.004
    mower: MowerConfig = field(default_factory=MowerConfig)


@dataclass(frozen=True)
class World:
    """A compiled-ready scene: MJCF text, its assets, and the obstacles' footprints."""

    xml: str
    assets: dict[str, bytes]
    obstacle_footprints: tuple[Polygon, ...]  # map obstacles and hidden ones, for checks
    hidden_footprints: tuple[Polygon, ...]


def _mesh(name: str, poly: Polygon, z_m: float, tile_m: float, uv_angle: float = 0.0) -> str:
    """A flat triangulated mesh of a polygon (visual only) with texture coordinates.

    ``uv_angle`` turns the texture on the ground (the direction of mowing stripes).
    """
    tris = shapely.get_parts(shapely.constrained_delaunay_triangles(poly))
    verts: dict[tuple[float, float], int] = {}
    faces = []
    for tri in tris:
        idx = []
        for x, y in list(tri.exterior.coords)[:3]:
            key = (round(x, 6), round(y, 6))
            idx.append(verts.setdefault(key, len(verts)))
        a, b, c = idx
        (x0, y0), (x1, y1), (x2, y2) = list(tri.exterior.coords)[:3]
        if (x1 - x0) * (y2 - y0) - (y1 - y0) * (x2 - x0) < 0:
            b, c = c, b
        faces.append((a, b, c))
    vs = np.array(list(verts), dtype=float)
    vert = ' '.join(f'{x:.5f} {y:.5f} {z_m:.4f}' for x, y in vs)
    c, s = math.cos(uv_angle), math.sin(uv_angle)
    uv = ' '.join(f'{(c * x + s * y) / tile_m:.5f} {(-s * x + c * y) / tile_m:.5f}' for x, y in vs)
    face = ' '.join(f'{a} {b} {c}' for a, b, c in faces)
    return f'<mesh name="{name}" vertex="{vert}" texcoord="{uv}" face="{face}" inertia="shell"/>'


def _obstacle_geoms(
    name: str, kind: str, poly: Polygon, height: float, rng: np.random.Generator
) -> list[str]:
    """Geoms standing on a footprint: cylinders for round things, boxes for the rest."""
    c = poly.centroid
    circ = 4 * math.pi * poly.area / max(poly.length**2, 1e-12)  # 1 for a circle
    out = []
    colour = {
        'tree': '0.35 0.25 0.15 1',
        'post': '0.5 0.5 0.5 1',
        'rock': '0.45 0.45 0.42 1',
        'toy': '0.9 0.2 0.1 1',
        'pet': '0.55 0.4 0.25 1',
        'hose': HOSE_COLOURS[0],
        'shed': '0.45 0.35 0.25 1',
        'bench': '0.5 0.35 0.2 1',
    }.get(
        kind,
        f'{rng.uniform(0.3, 0.8):.2f} {rng.uniform(0.2, 0.6):.2f} {rng.uniform(0.1, 0.5):.2f} 1',
    )
    if kind in ('rock', 'pet'):
        r = math.sqrt(poly.area / math.pi)
        out.append(
            f'<geom name="obst_{name}" type="ellipsoid" pos="{c.x:.4f} {c.y:.4f} 0" '
            f'size="{r:.4f} {r * 0.8:.4f} {height:.4f}" rgba="{colour}"/>'
        )
    elif circ > 0.85:
        r = math.sqrt(poly.area / math.pi)
        out.append(
            f'<geom name="obst_{name}" type="cylinder" pos="{c.x:.4f} {c.y:.4f} '
            f'{height / 2:.4f}" size="{r:.4f} {height / 2:.4f}" rgba="{colour}"/>'
        )
        if kind == 'tree':
            out.append(
                f'<geom name="obst_{name}_crown" type="sphere" pos="{c.x:.4f} '
                f'{c.y:.4f} {height:.4f}" size="{max(1.0, 4 * r):.3f}" '
                f'rgba="0.2 0.45 0.15 1" contype="0" conaffinity="0"/>'
            )
    else:
        rect = poly.minimum_rotated_rectangle
        xy = np.asarray(rect.exterior.coords)[:4]
        e1, e2 = xy[1] - xy[0], xy[2] - xy[1]
        yaw = math.atan2(e1[1], e1[0])
        hx, hy = np.hypot(*e1) / 2, np.hypot(*e2) / 2
        rc = xy.mean(axis=0)
        out.append(
            f'<geom name="obst_{name}" type="box" pos="{rc[0]:.4f} {rc[1]:.4f} '
            f'{height / 2:.4f}" euler="0 0 {yaw:.5f}" size="{hx:.4f} {hy:.4f} '
            f'{height / 2:.4f}" rgba="{colour}"/>'
        )
    return out


def _plants(name: str, poly: Polygon, rng: np.random.Generator) -> list[str]:
    """Low plants scattered in a flower bed (visual only)."""
    out = []
    minx, miny, maxx, maxy = poly.bounds
    inner = poly.buffer(-0.12)
    for k in range(int(poly.area * 3)):
        x, y = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
        if inner.is_empty or not inner.contains(shapely.Point(x, y)):
            continue
        r = rng.uniform(0.08, 0.16)
        colour = rng.choice(['0.2 0.5 0.15 1', '0.8 0.2 0.4 1', '0.9 0.8 0.2 1', '0.5 0.3 0.7 1'])
        out.append(
            f'<geom name="{name}_plant_{k}" type="ellipsoid" pos="{x:.3f} {y:.3f} '
            f'{r * 0.6:.3f}" size="{r:.3f} {r:.3f} {r * 0.8:.3f}" rgba="{colour}" '
            f'contype="0" conaffinity="0"/>'
        )
    return out


def _enclosure(boundary: Polygon, rng: np.random.Generator) -> list[str]:
    """A fence, hedge or wall 1-6 m beyond the lawn, in pieces with gaps (obstacles)."""
    kind = str(rng.choice(['fence', 'hedge', 'wall']))
    ring = boundary.convex_hull.buffer(rng.uniform(1.0, 6.0)).exterior
    height = {
        'fence': rng.uniform(0.8, 2.0),
        'hedge': rng.uniform(0.8, 2.5),
        'wall': rng.uniform(1.0, 2.5),
    }[kind]
    thick = {'fence': 0.03, 'hedge': rng.uniform(0.3, 0.8), 'wall': 0.15}[kind]
    grey = rng.uniform(0.3, 0.8)
    colour = {
        'fence': f'{grey * 0.8:.2f} {grey * 0.6:.2f} {grey * 0.4:.2f} 1',
        'wall': f'{grey:.2f} {grey * rng.uniform(0.5, 0.95):.2f} '
        f'{grey * rng.uniform(0.4, 0.9):.2f} 1',
    }.get(kind, '')
    look = 'material="mat_foliage"' if kind == 'hedge' else f'rgba="{colour}"'
    out, d, piece, gap = [], 0.0, rng.uniform(1.0, 3.0), rng.uniform(0.0, 0.3)
    while d + piece <= ring.length:
        a, b = ring.interpolate(d), ring.interpolate(d + piece)
        d += piece
        if rng.random() < gap:
            continue
        cx, cy = (a.x + b.x) / 2, (a.y + b.y) / 2
        yaw = math.atan2(b.y - a.y, b.x - a.x)
        h = height * rng.uniform(0.9, 1.1)
        out.append(
            f'<geom name="obst_garden_encl_{len(out)}" type="box" pos="{cx:.3f} '
            f'{cy:.3f} {h / 2:.3f}" euler="0 0 {yaw:.4f}" size="{piece / 2 + 0.02:.3f} '
            f'{thick / 2:.3f} {h / 2:.3f}" {look} contype="0" conaffinity="0"/>'
        )
    return out


def _garden_surroundings(boundary: Polygon, rng: np.random.Generator) -> list[str]:
    """A house wall, trees and a hedge beside the lawn (obstacles, and casters of shadows)."""
    out = []
    minx, miny, maxx, maxy = boundary.bounds
    cx, cy = (minx + maxx) / 2, (miny + maxy) / 2
    reach = max(maxx - minx, maxy - miny) / 2
    keep_clear = boundary.buffer(0.8)
    k = 0
    if rng.random() < 0.85:  # an enclosure: fence, hedge or wall around the garden, with gaps
        out.extend(_enclosure(boundary, rng))
    for kind in (
        ['house'] * int(rng.integers(0, 2))
        + ['tree'] * int(rng.integers(1, 5))
        + ['hedge'] * int(rng.integers(0, 3))
    ):
        for _ in range(20):
            a = rng.uniform(0, 2 * math.pi)
            d = reach + rng.uniform(1.0, 8.0)
            x, y = cx + d * math.cos(a), cy + d * math.sin(a)
            if not keep_clear.intersects(
                shapely.Point(x, y).buffer(3.0 if kind != 'tree' else 0.5)
            ):
                break
        else:
            continue
        k += 1
        grey = rng.uniform(0.4, 0.9)
        if kind == 'house':
            hx, hy, hz = rng.uniform(2, 5), rng.uniform(1, 3), rng.uniform(2.5, 6)
            out.append(
                f'<geom name="obst_garden_{k}" type="box" pos="{x:.3f} {y:.3f} '
                f'{hz / 2:.3f}" euler="0 0 {a + math.pi / 2:.4f}" size="{hx:.3f} '
                f'{hy:.3f} {hz / 2:.3f}" rgba="{grey:.2f} {grey * 0.9:.2f} '
                f'{grey * 0.8:.2f} 1" contype="0" conaffinity="0"/>'
            )
        elif kind == 'tree':
            r, h = rng.uniform(0.08, 0.3), rng.uniform(1.5, 4)
            out.append(
                f'<geom name="obst_garden_{k}" type="cylinder" pos="{x:.3f} {y:.3f} '
                f'{h / 2:.3f}" size="{r:.3f} {h / 2:.3f}" rgba="0.35 0.25 0.15 1" '
                f'contype="0" conaffinity="0"/>'
            )
            out.append(
                f'<geom name="obst_garden_{k}_crown" type="ellipsoid" pos="{x:.3f} '
                f'{y:.3f} {h + 0.5:.3f}" size="{rng.uniform(0.8, 2.0):.3f} '
                f'{rng.uniform(0.8, 2.0):.3f} {rng.uniform(0.8, 1.8):.3f}" '
                f'material="mat_foliage" contype="0" conaffinity="0"/>'
            )
        else:
            out.append(
                f'<geom name="obst_garden_{k}" type="box" pos="{x:.3f} {y:.3f} '
                f'{0.6:.3f}" euler="0 0 {a + math.pi / 2:.4f}" size="'
                f'{rng.uniform(1, 4):.3f} {rng.uniform(0.3, 0.6):.3f} '
                f'{rng.uniform(0.4, 1.0):.3f}" material="mat_foliage" contype="0" '
                f'conaffinity="0"/>'
            )
    return out


#: Garden hose colours (RGBA): the green one first (the plain worlds' hose), then those of
#: other hoses (dark green, yellow, orange, blue, black, grey) for domain-randomised frames.
HOSE_COLOURS = (
    '0.1 0.5 0.2 1',
    '0.05 0.3 0.1 1',
    '0.85 0.75 0.1 1',
    '0.9 0.4 0.05 1',
    '0.1 0.25 0.7 1',
    '0.08 0.08 0.08 1',
    '0.5 0.5 0.5 1',
)


def hose_colour(h: HiddenObstacle) -> str:
    """A domain-randomised hose's colour, drawn from its own position (green half the time).

    Its own generator, seeded by the hose, so that the world's other random draws stay as
    they were.
    """
    seed = [int(abs(v) * 1000) for v in (h.x_m, h.y_m, h.size_m, h.yaw_rad)]
    rng = np.random.default_rng(seed)
    if rng.random() < 0.5:
        return HOSE_COLOURS[int(rng.integers(0, 2))]
    return HOSE_COLOURS[int(rng.integers(2, len(HOSE_COLOURS)))]


def hidden_footprint(h: HiddenObstacle) -> Polygon:
    """The ground footprint of a hidden obstacle."""
    if h.kind == 'hose':
        line = shapely.LineString([(-h.size_m / 2, 0), (h.size_m / 2, 0)])
        geom = line.buffer(0.015)
    elif h.kind in ('furniture',):
        geom = shapely.box(-h.size_m / 2, -h.size_m / 3, h.size_m / 2, h.size_m / 3)
    else:
        geom = shapely.Point(0, 0).buffer(h.size_m / 2, quad_segs=8)
    geom = shapely.affinity.rotate(geom, h.yaw_rad, origin=(0, 0), use_radians=True)
    return shapely.affinity.translate(geom, h.x_m, h.y_m)


def _mower_xml(m: MowerConfig) -> str:
    pitch = math.radians(m.camera_pitch_deg)
    s, c = math.sin(pitch), math.cos(pitch)
    wz = m.wheel_radius_m
    half_track = m.wheel_track_m / 2
    body_z = wz + 0.01
    return f"""
    <body name="mower" pos="0 0 {wz + 0.002:.4f}">
      <freejoint name="mower_free"/>
      <site name="imu" pos="0 0 0"/>
      <geom name="robot_body" type="cylinder" pos="0 0 {body_z - wz + m.body_height_m / 2:.4f}"
            size="{m.body_radius_m} {m.body_height_m / 2}" mass="{m.body_mass_kg}"
            rgba="0.85 0.45 0.1 1" friction="0.3 0.005 0.0001"/>
      <geom name="robot_battery" type="box" pos="0.08 0 0.04" size="0.06 0.08 0.03"
            mass="{m.battery_mass_kg}" rgba="0.2 0.2 0.2 1" contype="0" conaffinity="0"/>
      <geom name="robot_mast" type="box" pos="{m.camera_x_m:.3f} 0 {m.camera_z_m - wz - 0.06:.3f}"
            size="0.015 0.015 0.06" mass="0.1" rgba="0.2 0.2 0.2 1" contype="0" conaffinity="0"/>
      <camera name="front" pos="{m.camera_x_m:.3f} 0 {m.camera_z_m - wz:.4f}"
              xyaxes="0 -1 0 {s:.6f} 0 {c:.6f}" fovy="{m.camera_fovy_deg}"/>
      <geom name="robot_caster" type="sphere" pos="{m.caster_x_m} 0 {-wz + 0.032:.4f}"
            size="0.03" mass="0.2" condim="1" priority="1" rgba="0.2 0.2 0.2 1"/>
      <geom name="robot_caster_rear" type="sphere" pos="{-m.caster_x_m} 0 {-wz + 0.035:.4f}"
            size="0.03" mass="0.2" condim="1" priority="1" rgba="0.2 0.2 0.2 1"/>
      <body name="wheel_left" pos="0 {half_track} 0">
        <joint name="wheel_left" type="hinge" axis="0 1 0" damping="0.01"/>
        <geom name="robot_wheel_left" type="ellipsoid"
              size="{wz} {m.wheel_width_m / 2} {wz}" mass="{m.wheel_mass_kg}"
              rgba="0.1 0.1 0.1 1" friction="{m.wheel_friction} 0.005 0.0001" condim="3"/>
      </body>
      <body name="wheel_right" pos="0 {-half_track} 0">
        <joint name="wheel_right" type="hinge" axis="0 1 0" damping="0.01"/>
        <geom name="robot_wheel_right" type="ellipsoid"
              size="{wz} {m.wheel_width_m / 2} {wz}" mass="{m.wheel_mass_kg}"
              rgba="0.1 0.1 0.1 1" friction="{m.wheel_friction} 0.005 0.0001" condim="3"/>
      </body>
    </body>"""


def build_world(lawn: LawnMap, config: WorldConfig | None = None, seed: int = 0) -> World:
    """The MJCF scene of a lawn map (deterministic for a seed)."""
    config = config or WorldConfig()
    rng = np.random.default_rng(seed)
    m = config.mower
    assets: dict[str, bytes] = {}
    textures, materials, meshes, geoms = [], [], [], []
    g = np.random.default_rng(seed + 7919)  # garden draws: the other draws stay as they were

    stripes = float(rng.uniform(0.0, 0.12)) if config.randomise and rng.random() < 0.6 else 0.0
    stripe_angle = float(rng.uniform(0, math.pi)) if config.randomise else 0.0

    def material(kind: str) -> str:
        name = f'mat_{kind}'
        if f'{kind}.png' not in assets:
            if config.garden:
                texture = garden_texture(kind, g, stripes=stripes if kind == 'grass' else 0.0)
            else:
                texture = ground_texture(
                    kind,
                    rng,
                    randomise=config.randomise,
                    stripes=stripes if kind == 'grass' else 0.0,
                )
            assets[f'{kind}.png'] = png_bytes(texture)
            textures.append(f'<texture name="tex_{kind}" type="2d" file="{kind}.png"/>')
            materials.append(
                f'<material name="{name}" texture="tex_{kind}" specular="0.05" shininess="0.05"/>'
            )
        return name

    minx, miny, maxx, maxy = lawn.boundary.bounds
    cx, cy = (minx + maxx) / 2, (miny + maxy) / 2
    half = max(maxx - minx, maxy - miny) / 2 + 15.0
    outside = 'paving' if not config.randomise else str(rng.choice(['paving', 'gravel', 'soil']))
    if config.garden:
        outside = str(g.choice(GARDEN_GROUNDS))
    mat = material(outside)
    # The ground beyond the lawn: an invisible plane to drive on, and a textured square (the
    # texture once across it, as MuJoCo maps it on a plane) to see. llvmpipe draws the square
    # in 2 ms where the plane took 6-8 ms, with the same pixels.
    geoms.append(
        f'<geom name="other_ground" type="plane" pos="{cx:.3f} {cy:.3f} 0" '
        f'size="{half:.2f} {half:.2f} 0.1" rgba="0 0 0 0" '
        f'friction="{m.wheel_friction} 0.01 0.0001"/>'
    )
    x0, y0, x1, y1 = cx - half, cy - half, cx + half, cy + half
    meshes.append(
        f'<mesh name="ground_mesh" vertex="{x0:.3f} {y0:.3f} 0 {x1:.3f} {y0:.3f} 0 '
        f'{x1:.3f} {y1:.3f} 0 {x0:.3f} {y1:.3f} 0" texcoord="0 1 1 1 1 0 0 0" '
        f'face="0 1 2 0 2 3" inertia="shell"/>'
    )
    geoms.append(
        f'<geom name="other_ground_visual" type="mesh" mesh="ground_mesh" '
        f'material="{mat}" contype="0" conaffinity="0"/>'
    )
    keepouts = [f for f in lawn.features if f.role == 'keepout']
    lawn_area = (
        lawn.boundary.difference(shapely.union_all([f.geometry for f in keepouts]))
        if keepouts
        else lawn.boundary
    )
    grass = material('grass')
    for i, poly in enumerate(p for p in shapely.get_parts(lawn_area) if p.area > 1e-4):
        meshes.append(_mesh(f'lawn_mesh_{i}', poly, 0.002, 1.0, stripe_angle))
        geoms.append(
            f'<geom name="lawn_{i}" type="mesh" mesh="lawn_mesh_{i}" '
            f'material="{grass}" contype="0" conaffinity="0"/>'
        )
    for f in keepouts:
        kind = str(f.properties.get('kind', 'flower_bed'))
        tex = KEEPOUT_TEXTURE.get(kind, 'soil')
        mat = material(tex)
        for j, poly in enumerate(p for p in shapely.get_parts(f.geometry) if p.area > 1e-4):
            name = f'other_keepout_{f.index}_{j}'
            meshes.append(_mesh(f'mesh_{name}', poly, 0.003, 1.0))
            geoms.append(
                f'<geom name="{name}" type="mesh" mesh="mesh_{name}" material="{mat}" '
                f'contype="0" conaffinity="0"/>'
            )
            if kind == 'flower_bed':  # plants: part of the bed, so labelled other ground
                geoms.extend(_plants(name, poly, rng))
    footprints = []
    for f in lawn.features:
        if f.role != 'obstacle':
            continue
        kind = str(f.properties.get('kind', 'post'))
        height = float(f.properties.get('height_m', DEFAULT_HEIGHT_M.get(kind, 0.6)))
        for j, poly in enumerate(shapely.get_parts(f.geometry)):
            geoms.extend(_obstacle_geoms(f'map_{f.index}_{j}', kind, poly, height, rng))
            footprints.append(poly)
    hidden = []
    for i, h in enumerate(config.hidden):
        poly = hidden_footprint(h)
        height = DEFAULT_HEIGHT_M.get(h.kind, 0.3)
        if h.kind == 'hose':
            rgba = hose_colour(h) if config.randomise else HOSE_COLOURS[0]
            geoms.append(
                f'<geom name="obst_hidden_{i}" type="capsule" '
                f'fromto="{h.x_m - math.cos(h.yaw_rad) * h.size_m / 2:.4f} '
                f'{h.y_m - math.sin(h.yaw_rad) * h.size_m / 2:.4f} 0.015 '
                f'{h.x_m + math.cos(h.yaw_rad) * h.size_m / 2:.4f} '
                f'{h.y_m + math.sin(h.yaw_rad) * h.size_m / 2:.4f} 0.015" size="0.015" '
                f'rgba="{rgba}"/>'
            )
        else:
            geoms.extend(_obstacle_geoms(f'hidden_{i}', h.kind, poly, height, rng))
        footprints.append(poly)
        hidden.append(poly)
    if config.randomise:
        az, el = rng.uniform(0, 2 * math.pi), rng.uniform(math.radians(25), math.radians(80))
        light = rng.uniform(0.5, 1.0)
    else:
        az, el, light = math.radians(210), math.radians(55), 0.8
    sky1, sky2, ambient, shadows = '0.55 0.7 0.95', '0.85 0.9 1.0', 0.35, ''
    if config.garden:
        assets['foliage.png'] = png_bytes(foliage_texture(g))
        textures.append('<texture name="tex_foliage" type="cube" file="foliage.png"/>')
        materials.append('<material name="mat_foliage" texture="tex_foliage" specular="0.02"/>')
        geoms.extend(_garden_surroundings(lawn.boundary, g))
        el = g.uniform(math.radians(8), math.radians(75))  # low sun to noon
        overcast = g.random() < 0.3
        light = g.uniform(0.15, 0.4) if overcast else g.uniform(0.6, 1.1)
        ambient = g.uniform(0.45, 0.7) if overcast else g.uniform(0.2, 0.4)
        if overcast:
            grey = g.uniform(0.6, 0.9)
            sky1 = sky2 = f'{grey:.2f} {grey:.2f} {grey * g.uniform(1.0, 1.08):.2f}'
        else:
            warm = max(0.0, 1.0 - el / math.radians(25)) * g.uniform(0.0, 0.3)  # low sun
            sky1 = (
                f'{g.uniform(0.35, 0.6) + warm:.2f} {g.uniform(0.55, 0.75):.2f} '
                f'{g.uniform(0.85, 1.0):.2f}'
            )
            sky2 = f'{g.uniform(0.8, 1.0):.2f} {g.uniform(0.85, 0.95):.2f} 1.0'
        shadows = '' if overcast else ' castshadow="true"'
    d = (-math.cos(el) * math.cos(az), -math.cos(el) * math.sin(az), -math.sin(el))
    dock = lawn.dock
    start = (dock.x_m, dock.y_m, dock.heading_rad) if dock else (cx, cy, 0.0)
    # statistic extent 10: clipping planes at 0.1 m and 200 m whatever the lawn's size (MuJoCo
    # scales znear and zfar by the extent; from the geometry it grew with the lawn).
    xml = f"""<mujoco model={quoteattr(lawn.name)}>
  <compiler angle="radian"/>
  <option timestep="{config.timestep_s}" integrator="implicitfast"/>
  <visual>
    <quality shadowsize="{2048 if shadows else 0}" offsamples="0"/>
    <global offwidth="{m.image_width}" offheight="{m.image_height}"/>
    <headlight ambient="{ambient:.3f} {ambient:.3f} {ambient:.3f}" diffuse="0.25 0.25 0.25"
               specular="0 0 0"/>
    <map znear="0.01" zfar="20"/>
  </visual>
  <statistic extent="10" center="{cx:.3f} {cy:.3f} 0.5"/>
  <asset>
    <texture name="sky" type="skybox" builtin="gradient" rgb1="{sky1}"
             rgb2="{sky2}" width="64" height="64"/>
    {''.join(textures)}
    {''.join(materials)}
    {''.join(meshes)}
  </asset>
  <worldbody>
    <light name="sun" directional="true" pos="0 0 50" dir="{d[0]:.4f} {d[1]:.4f} {d[2]:.4f}"
           diffuse="{light:.3f} {light:.3f} {light:.3f}"{shadows or ' castshadow="false"'}/>
    {''.join(geoms)}
    {_mower_xml(m)}
  </worldbody>
  <actuator>
    <velocity name="left" joint="wheel_left" kv="{m.motor_kv}"
              ctrlrange="{-m.max_wheel_speed_rad_s} {m.max_wheel_speed_rad_s}"
              forcerange="{-m.motor_torque_nm} {m.motor_torque_nm}"/>
    <velocity name="right" joint="wheel_right" kv="{m.motor_kv}"
              ctrlrange="{-m.max_wheel_speed_rad_s} {m.max_wheel_speed_rad_s}"
              forcerange="{-m.motor_torque_nm} {m.motor_torque_nm}"/>
  </actuator>
  <sensor>
    <accelerometer name="imu_accel" site="imu"/>
    <gyro name="imu_gyro" site="imu"/>
    <framequat name="imu_orientation" objtype="site" objname="imu"/>
    <jointpos name="enc_left" joint="wheel_left"/>
    <jointpos name="enc_right" joint="wheel_right"/>
  </sensor>
  <keyframe>
    <key name="dock" qpos="{start[0]:.4f} {start[1]:.4f} {m.wheel_radius_m + 0.002:.4f}
      {math.cos(start[2] / 2):.6f} 0 0 {math.sin(start[2] / 2):.6f} 0 0"/>
  </keyframe>
</mujoco>"""
    return World(xml, assets, tuple(footprints), tuple(hidden))
