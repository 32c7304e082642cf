"""Scripted drives and their pictures.

A contact sheet of camera frames with their labels, and a top-down view of the trajectory and
the mowed ground.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import matplotlib

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from mower_sim.sim import COVERAGE_RES_M, CameraFrame, LawnSim  # noqa: E402
from mower_sim.world import LABELS  # noqa: E402

#: Overlay colours of the label classes (RGB).
LABEL_COLOURS = {
    LABELS['lawn']: (40, 200, 40),
    LABELS['other']: (170, 120, 70),
    LABELS['obstacle']: (230, 30, 30),
    LABELS['sky']: (120, 170, 255),
}


@dataclass
class DriveLog:
    """What a scripted drive recorded."""

    times_s: list[float] = field(default_factory=list)
    poses: list[tuple[float, float, float]] = field(default_factory=list)
    frames: list[CameraFrame] = field(default_factory=list)


def follow_waypoints(
    sim: LawnSim,
    waypoints: np.ndarray,
    speed_mps: float = 0.4,
    camera_hz: float = 10.0,
    keep: int = 12,
    blade: bool = True,
    timeout_s: float = 600.0,
    tolerance_m: float = 0.08,
) -> DriveLog:
    """Drive through (x, y) waypoints with a simple heading controller.

    A test driver only (the stack's path follower belongs to the control package); it pivots
    when the heading error is big.
    """
    log = DriveLog()
    pts = np.asarray(waypoints, dtype=float)
    control_dt = 0.05
    steps = max(1, int(round(control_dt / sim.model.opt.timestep)))
    frame_every = max(1, int(round(1.0 / camera_hz / control_dt)))
    est_s = float(np.hypot(*np.diff(pts, axis=0).T).sum() / speed_mps) if len(pts) > 1 else 1.0
    keep_every = max(1, int(est_s / control_dt / frame_every / max(keep, 1)))
    i, k = 0, 0
    while i < len(pts) and sim.time_s < timeout_s:
        x, y, yaw = sim.pose
        dx, dy = pts[i, 0] - x, pts[i, 1] - y
        if np.hypot(dx, dy) < tolerance_m:
            i += 1
            continue
        err = (np.arctan2(dy, dx) - yaw + np.pi) % (2 * np.pi) - np.pi
        w = float(np.clip(2.5 * err, -1.2, 1.2))
        v = speed_mps * max(0.0, np.cos(err)) ** 4 if abs(err) < 0.6 else 0.0
        sim.command(min(v, 1.5 * np.hypot(dx, dy) + 0.05), w, blade)
        sim.step(steps)
        if k % frame_every == 0:
            log.times_s.append(sim.time_s)
            log.poses.append(sim.pose)
            if (k // frame_every) % keep_every == 0:
                log.frames.append(sim.camera())
        k += 1
    sim.command(0.0, 0.0, False)
    return log


def overlay(frame: CameraFrame, alpha: float = 0.45) -> np.ndarray:
    """The RGB frame with its labels blended in colour."""
    colours = np.zeros((256, 3), dtype=np.float32)
    for k, c in LABEL_COLOURS.items():
        colours[k] = c
    lab = colours[frame.labels]
    return (frame.rgb * (1 - alpha) + lab * alpha).astype(np.uint8)


def contact_sheet(frames: list[CameraFrame], cols: int = 3) -> np.ndarray:
    """Tiles of [camera | label overlay] pairs, ``cols`` pairs a row."""
    if not frames:
        raise ValueError('no frames to show')
    h, w = frames[0].rgb.shape[:2]
    rows = (len(frames) + cols - 1) // cols
    sheet = np.full((rows * (h + 4), cols * (2 * w + 8), 3), 255, dtype=np.uint8)
    for i, f in enumerate(frames):
        r, c = divmod(i, cols)
        y0, x0 = r * (h + 4), c * (2 * w + 8)
        sheet[y0 : y0 + h, x0 : x0 + w] = f.rgb
        sheet[y0 : y0 + h, x0 + w : x0 + 2 * w] = overlay(f)
    return sheet


def write_drive_report(sim: LawnSim, log: DriveLog, out: str | Path) -> dict[str, str]:
    """Write the contact sheet and the top-down image; return their paths."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    sheet = out / 'camera_contact_sheet.png'
    Image.fromarray(contact_sheet(log.frames)).save(sheet)
    top = out / 'top_down.png'
    lawn = sim.lawn
    fig, ax = plt.subplots(figsize=(8, 6))
    for f in lawn.features:
        style = {
            'boundary': ('#cfe8c0', '#3b6d2a'),
            'keepout': ('#e9b8c8', '#a33'),
            'obstacle': ('#8a6a4a', '#4a3a2a'),
        }.get(f.role)
        if style is None:
            continue
        for poly in getattr(f.geometry, 'geoms', [f.geometry]):
            x, y = poly.exterior.xy
            ax.fill(x, y, facecolor=style[0], edgecolor=style[1], lw=1)
    for poly in sim.world.hidden_footprints:
        x, y = poly.exterior.xy
        ax.fill(x, y, facecolor='#ff9900', edgecolor='k', lw=1)
    rows, cols = sim.mowed.nonzero()
    if len(rows):
        ax.scatter(
            sim._cov_origin[0] + cols * COVERAGE_RES_M,
            sim._cov_origin[1] + rows * COVERAGE_RES_M,
            s=0.2,
            c='#2a7a2a',
            alpha=0.25,
            label='mowed (deck)',
        )
    p = np.asarray(log.poses)
    if len(p):
        ax.plot(p[:, 0], p[:, 1], 'k-', lw=1.2, label='trajectory')
        ax.plot(p[0, 0], p[0, 1], 'go', label='start')
        ax.plot(p[-1, 0], p[-1, 1], 'rs', label='end')
    ev = sim.events
    ax.set_title(
        f'{lawn.name}: {sim.time_s:.0f} s simulated, {ev.collisions} collisions, '
        f'{ev.boundary_exits} boundary exits, {sim.mowed_area_m2(lawn.boundary):.1f} '
        'm² mowed',
        fontsize=9,
    )
    ax.set_aspect('equal')
    ax.legend(loc='upper right', fontsize=7)
    ax.set_xlabel('east (m)')
    ax.set_ylabel('north (m)')
    fig.tight_layout()
    fig.savefig(top, dpi=120)
    plt.close(fig)
    return {'contact_sheet': str(sheet), 'top_down': str(top)}
