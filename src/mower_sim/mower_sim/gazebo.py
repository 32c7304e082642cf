"""Gazebo (gz sim Harmonic) assets from a lawn map: world SDF, lawn meshes, mower, bridge YAML.

The same map and the same :class:`~mower_sim.world.MowerConfig` as the MuJoCo scene, so both
simulators show the same lawn and the same robot. Lawn and bed surfaces are written as OBJ
meshes next to the world; obstacles are SDF primitives with collisions.
"""

from __future__ import annotations

import math
from pathlib import Path
from xml.sax.saxutils import escape

import shapely
import yaml
from shapely.geometry import Polygon

from mower_maps import LawnMap
from mower_sim.world import DEFAULT_HEIGHT_M, MowerConfig

GZ_TOPICS = {
    'image': 'camera/image_raw',
    'camera_info': 'camera/camera_info',
    'imu': 'imu/data',
    'odom': 'odom',
    'cmd_vel': 'cmd_vel',
    'tf': 'tf',
    'joint_states': 'joint_states',
}
SURFACE_COLOURS = {
    'lawn': '0.24 0.48 0.18 1',
    'flower_bed': '0.43 0.27 0.16 1',
    'pond': '0.24 0.35 0.47 1',
    'paving': '0.59 0.57 0.53 1',
    'soil': '0.37 0.27 0.2 1',
    'ground': '0.55 0.52 0.48 1',
}


def polygon_obj(poly: Polygon, z_m: float) -> str:
    """A polygon as a triangulated, upward-facing OBJ surface (holes respected)."""
    tris = shapely.get_parts(shapely.constrained_delaunay_triangles(poly))
    verts: dict[tuple[float, float], int] = {}
    faces = []
    for tri in tris:
        pts = list(tri.exterior.coords)[:3]
        (x0, y0), (x1, y1), (x2, y2) = pts
        if (x1 - x0) * (y2 - y0) - (y1 - y0) * (x2 - x0) < 0:
            pts = [pts[0], pts[2], pts[1]]
        faces.append(
            [verts.setdefault((round(x, 6), round(y, 6)), len(verts) + 1) for x, y in pts]
        )
    lines = ['# generated from a lawn map by mower_sim.gazebo', 'o surface']
    lines += [f'v {x:.6f} {y:.6f} {z_m:.4f}' for x, y in verts]
    lines += ['vn 0 0 1']
    lines += [f'f {a}//1 {b}//1 {c}//1' for a, b, c in faces]
    return '\n'.join(lines) + '\n'


def _static_surface(name: str, uri: str, colour: str) -> str:
    return f"""
    <model name="{name}">
      <static>true</static>
      <link name="link">
        <visual name="visual">
          <geometry><mesh><uri>{uri}</uri></mesh></geometry>
          <material><ambient>{colour}</ambient><diffuse>{colour}</diffuse></material>
        </visual>
      </link>
    </model>"""


def _obstacle_model(name: str, kind: str, poly: Polygon, height: float) -> str:
    c = poly.centroid
    circ = 4 * math.pi * poly.area / max(poly.length**2, 1e-12)
    if circ > 0.85:
        r = math.sqrt(poly.area / math.pi)
        geom = f'<cylinder><radius>{r:.4f}</radius><length>{height:.3f}</length></cylinder>'
        pose = f'{c.x:.4f} {c.y:.4f} {height / 2:.4f} 0 0 0'
    else:
        rect = poly.minimum_rotated_rectangle
        xy = list(rect.exterior.coords)[:4]
        e1 = (xy[1][0] - xy[0][0], xy[1][1] - xy[0][1])
        e2 = (xy[2][0] - xy[1][0], xy[2][1] - xy[1][1])
        yaw = math.atan2(e1[1], e1[0])
        geom = f'<box><size>{math.hypot(*e1):.4f} {math.hypot(*e2):.4f} {height:.3f}</size></box>'
        rc = rect.centroid
        pose = f'{rc.x:.4f} {rc.y:.4f} {height / 2:.4f} 0 0 {yaw:.5f}'
    return f"""
    <model name="{name}">
      <static>true</static>
      <pose>{pose}</pose>
      <link name="link">
        <collision name="collision"><geometry>{geom}</geometry></collision>
        <visual name="visual">
          <geometry>{geom}</geometry>
          <material><ambient>0.4 0.3 0.2 1</ambient><diffuse>0.4 0.3 0.2 1</diffuse></material>
        </visual>
      </link>
      <!-- kind: {escape(kind)} -->
    </model>"""


def mower_sdf(m: MowerConfig | None = None) -> str:
    """The mower model: diff drive, two casters, front camera, IMU (same sizes as MuJoCo's)."""
    m = m or MowerConfig()
    pitch = math.radians(m.camera_pitch_deg)
    hfov = 2 * math.atan(
        math.tan(math.radians(m.camera_fovy_deg) / 2) * m.image_width / m.image_height
    )
    wr, ht = m.wheel_radius_m, m.wheel_track_m / 2
    max_v = m.max_wheel_speed_rad_s * wr

    def wheel(side: str, y: float) -> str:
        return f"""
    <link name="wheel_{side}">
      <pose relative_to="base_link">0 {y:.4f} 0 -1.5708 0 0</pose>
      <inertial><mass>{m.wheel_mass_kg}</mass>
        <inertia><ixx>0.0013</ixx><iyy>0.0013</iyy><izz>0.0024</izz>
          <ixy>0</ixy><ixz>0</ixz><iyz>0</iyz></inertia></inertial>
      <collision name="collision"><geometry><cylinder><radius>{wr}</radius>
        <length>{m.wheel_width_m}</length></cylinder></geometry>
        <surface><friction><ode><mu>{m.wheel_friction}</mu><mu2>{m.wheel_friction}</mu2></ode>
        </friction></surface></collision>
      <visual name="visual"><geometry><cylinder><radius>{wr}</radius>
        <length>{m.wheel_width_m}</length></cylinder></geometry></visual>
    </link>
    <joint name="wheel_{side}_joint" type="revolute">
      <parent>base_link</parent><child>wheel_{side}</child>
      <axis><xyz expressed_in="base_link">0 1 0</xyz></axis>
    </joint>"""

    def caster(name: str, x: float) -> str:
        return f"""
      <collision name="{name}">
        <pose>{x} 0 {-wr + 0.03:.4f} 0 0 0</pose>
        <geometry><sphere><radius>0.03</radius></sphere></geometry>
        <surface><friction><ode><mu>0.01</mu><mu2>0.01</mu2></ode></friction></surface>
      </collision>"""

    return f"""<?xml version="1.0"?>
<sdf version="1.9">
  <model name="mower">
    <link name="base_link">
      <pose>0 0 {wr + 0.002:.4f} 0 0 0</pose>
      <inertial><pose>0.024 0 0.056 0 0 0</pose><mass>{m.body_mass_kg + m.battery_mass_kg}</mass>
        <inertia><ixx>0.12</ixx><iyy>0.12</iyy><izz>0.2</izz>
          <ixy>0</ixy><ixz>0</ixz><iyz>0</iyz></inertia></inertial>
      <collision name="body">
        <pose>0 0 {0.01 + m.body_height_m / 2:.4f} 0 0 0</pose>
        <geometry><cylinder><radius>{m.body_radius_m}</radius>
          <length>{m.body_height_m}</length></cylinder></geometry>
      </collision>
      <visual name="body">
        <pose>0 0 {0.01 + m.body_height_m / 2:.4f} 0 0 0</pose>
        <geometry><cylinder><radius>{m.body_radius_m}</radius>
          <length>{m.body_height_m}</length></cylinder></geometry>
        <material><ambient>0.85 0.45 0.1 1</ambient><diffuse>0.85 0.45 0.1 1</diffuse>
        </material>
      </visual>{caster('caster_front', m.caster_x_m)}{caster('caster_rear', -m.caster_x_m)}
      <sensor name="imu" type="imu">
        <always_on>true</always_on><update_rate>100</update_rate>
        <topic>{GZ_TOPICS['imu']}</topic>
      </sensor>
    </link>
    <link name="camera_link">
      <pose relative_to="base_link">{m.camera_x_m} 0 {m.camera_z_m - wr:.4f} 0 {pitch:.5f} 0</pose>
      <inertial><mass>0.05</mass><inertia><ixx>1e-5</ixx><iyy>1e-5</iyy><izz>1e-5</izz>
        <ixy>0</ixy><ixz>0</ixz><iyz>0</iyz></inertia></inertial>
      <sensor name="front_camera" type="camera">
        <always_on>true</always_on><update_rate>10</update_rate>
        <topic>{GZ_TOPICS['image']}</topic>
        <camera>
          <camera_info_topic>{GZ_TOPICS['camera_info']}</camera_info_topic>
          <horizontal_fov>{hfov:.5f}</horizontal_fov>
          <image><width>{m.image_width}</width><height>{m.image_height}</height>
            <format>R8G8B8</format></image>
          <clip><near>0.02</near><far>100</far></clip>
          <noise><type>gaussian</type><mean>0</mean><stddev>0.008</stddev></noise>
          <optical_frame_id>camera_optical_frame</optical_frame_id>
        </camera>
      </sensor>
    </link>
    <joint name="camera_joint" type="fixed">
      <parent>base_link</parent><child>camera_link</child>
    </joint>{wheel('left', ht)}{wheel('right', -ht)}
    <plugin filename="gz-sim-diff-drive-system" name="gz::sim::systems::DiffDrive">
      <left_joint>wheel_left_joint</left_joint>
      <right_joint>wheel_right_joint</right_joint>
      <wheel_separation>{m.wheel_track_m}</wheel_separation>
      <wheel_radius>{wr}</wheel_radius>
      <max_linear_velocity>{max_v:.3f}</max_linear_velocity>
      <max_linear_acceleration>{m.max_wheel_accel_rad_s2 * wr:.3f}</max_linear_acceleration>
      <topic>{GZ_TOPICS['cmd_vel']}</topic>
      <odom_topic>{GZ_TOPICS['odom']}</odom_topic>
      <tf_topic>{GZ_TOPICS['tf']}</tf_topic>
      <frame_id>odom</frame_id>
      <child_frame_id>base_link</child_frame_id>
      <odom_publish_frequency>50</odom_publish_frequency>
    </plugin>
    <plugin filename="gz-sim-joint-state-publisher-system"
            name="gz::sim::systems::JointStatePublisher">
      <topic>{GZ_TOPICS['joint_states']}</topic>
    </plugin>
  </model>
</sdf>
"""


def dock_pose(lawn: LawnMap) -> tuple[float, float, float]:
    """Where the mower starts: x, y (m) and yaw (rad) of the dock, or the lawn's centre."""
    d = lawn.dock
    return (d.x_m, d.y_m, d.heading_rad) if d else (*lawn.boundary.centroid.coords[0], 0.0)


def world_sdf(
    lawn: LawnMap, surfaces: dict[str, tuple[str, str]], include_mower: bool = True
) -> str:
    """The world: physics and sensor systems, sun, ground, lawn surfaces, obstacles, mower.

    ``include_mower=False`` leaves the mower out, for spawning it (ros_gz_sim create).
    """
    models = [_static_surface(name, uri, colour) for name, (uri, colour) in surfaces.items()]
    for f in lawn.features:
        if f.role != 'obstacle':
            continue
        kind = str(f.properties.get('kind', 'post'))
        height = float(f.properties.get('height_m', DEFAULT_HEIGHT_M.get(kind, 0.6)))
        for j, poly in enumerate(shapely.get_parts(f.geometry)):
            models.append(_obstacle_model(f'obstacle_{f.index}_{j}', kind, poly, height))
    x, y, yaw = dock_pose(lawn)
    mower = (
        f"""
    <include>
      <uri>model://mower</uri>
      <name>mower</name>
      <pose>{x:.4f} {y:.4f} 0 0 0 {yaw:.5f}</pose>
    </include>"""
        if include_mower
        else ''
    )
    return f"""<?xml version="1.0"?>
<sdf version="1.9">
  <world name="lawn">
    <physics name="1ms" type="ignored">
      <max_step_size>0.002</max_step_size>
      <real_time_factor>1.0</real_time_factor>
    </physics>
    <plugin filename="gz-sim-physics-system" name="gz::sim::systems::Physics"/>
    <plugin filename="gz-sim-user-commands-system" name="gz::sim::systems::UserCommands"/>
    <plugin filename="gz-sim-scene-broadcaster-system"
            name="gz::sim::systems::SceneBroadcaster"/>
    <plugin filename="gz-sim-sensors-system" name="gz::sim::systems::Sensors">
      <render_engine>ogre2</render_engine>
    </plugin>
    <plugin filename="gz-sim-imu-system" name="gz::sim::systems::Imu"/>
    <light type="directional" name="sun">
      <cast_shadows>true</cast_shadows>
      <pose>0 0 20 0 0 0</pose>
      <diffuse>0.9 0.9 0.85 1</diffuse>
      <specular>0.2 0.2 0.2 1</specular>
      <direction>-0.5 0.3 -0.8</direction>
    </light>
    <model name="ground">
      <static>true</static>
      <link name="link">
        <collision name="collision">
          <geometry><plane><normal>0 0 1</normal><size>500 500</size></plane></geometry>
          <surface><friction><ode><mu>0.9</mu><mu2>0.9</mu2></ode></friction></surface>
        </collision>
        <visual name="visual">
          <geometry><plane><normal>0 0 1</normal><size>500 500</size></plane></geometry>
          <material><ambient>{SURFACE_COLOURS['ground']}</ambient>
            <diffuse>{SURFACE_COLOURS['ground']}</diffuse></material>
        </visual>
      </link>
    </model>{''.join(models)}{mower}
  </world>
</sdf>
"""


def bridge_config() -> list[dict[str, str]]:
    """ros_gz_bridge entries for the mower's topics and the clock."""

    def entry(ros: str, gz: str, ros_type: str, gz_type: str, direction: str) -> dict[str, str]:
        return {
            'ros_topic_name': ros,
            'gz_topic_name': gz,
            'ros_type_name': ros_type,
            'gz_type_name': gz_type,
            'direction': direction,
        }

    t = GZ_TOPICS
    return [
        entry('/clock', '/clock', 'rosgraph_msgs/msg/Clock', 'gz.msgs.Clock', 'GZ_TO_ROS'),
        entry(t['image'], t['image'], 'sensor_msgs/msg/Image', 'gz.msgs.Image', 'GZ_TO_ROS'),
        entry(
            t['camera_info'],
            t['camera_info'],
            'sensor_msgs/msg/CameraInfo',
            'gz.msgs.CameraInfo',
            'GZ_TO_ROS',
        ),
        entry(t['imu'], t['imu'], 'sensor_msgs/msg/Imu', 'gz.msgs.IMU', 'GZ_TO_ROS'),
        entry(t['odom'], t['odom'], 'nav_msgs/msg/Odometry', 'gz.msgs.Odometry', 'GZ_TO_ROS'),
        entry('/tf', t['tf'], 'tf2_msgs/msg/TFMessage', 'gz.msgs.Pose_V', 'GZ_TO_ROS'),
        entry(
            t['joint_states'],
            t['joint_states'],
            'sensor_msgs/msg/JointState',
            'gz.msgs.Model',
            'GZ_TO_ROS',
        ),
        entry(t['cmd_vel'], t['cmd_vel'], 'geometry_msgs/msg/Twist', 'gz.msgs.Twist', 'ROS_TO_GZ'),
    ]


def write_gazebo(
    lawn: LawnMap, out: str | Path, mower: MowerConfig | None = None, include_mower: bool = True
) -> dict[str, Path]:
    """Write world, meshes, the mower model and the bridge YAML into ``out``.

    Run with ``GZ_SIM_RESOURCE_PATH=<out>/models gz sim <out>/lawn.sdf``.
    """
    out = Path(out)
    (out / 'meshes').mkdir(parents=True, exist_ok=True)
    (out / 'models' / 'mower').mkdir(parents=True, exist_ok=True)
    keepouts = [f for f in lawn.features if f.role == 'keepout']
    lawn_area = (
        lawn.boundary.difference(shapely.union_all([f.geometry for f in keepouts]))
        if keepouts
        else lawn.boundary
    )
    surfaces: dict[str, tuple[str, str]] = {}
    for i, poly in enumerate(p for p in shapely.get_parts(lawn_area) if p.area > 1e-4):
        path = out / 'meshes' / f'lawn_{i}.obj'
        path.write_text(polygon_obj(poly, 0.002))
        surfaces[f'lawn_{i}'] = (str(path.resolve()), SURFACE_COLOURS['lawn'])
    for f in keepouts:
        kind = str(f.properties.get('kind', 'flower_bed'))
        for j, poly in enumerate(p for p in shapely.get_parts(f.geometry) if p.area > 1e-4):
            path = out / 'meshes' / f'keepout_{f.index}_{j}.obj'
            path.write_text(polygon_obj(poly, 0.003))
            surfaces[f'keepout_{f.index}_{j}'] = (
                str(path.resolve()),
                SURFACE_COLOURS.get(kind, SURFACE_COLOURS['soil']),
            )
    world = out / 'lawn.sdf'
    world.write_text(world_sdf(lawn, surfaces, include_mower))
    model = out / 'models' / 'mower' / 'model.sdf'
    model.write_text(mower_sdf(mower))
    (out / 'models' / 'mower' / 'model.config').write_text(
        '<?xml version="1.0"?>\n<model><name>mower</name><version>1.0</version>'
        '<sdf version="1.9">model.sdf</sdf><description>Mower stack robot</description>'
        '</model>\n'
    )
    bridge = out / 'bridge.yaml'
    bridge.write_text(yaml.safe_dump(bridge_config(), sort_keys=False))
    return {'world': world, 'model': model, 'bridge': bridge}
