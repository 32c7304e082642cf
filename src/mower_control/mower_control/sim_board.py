"""A simulated motor board, and the transport that connects the driver to it.

:class:`SimulatedBoard` behaves as the firmware does: it decodes wheel and blade commands, drives
a *plant* (the MuJoCo mower, or anything with the same few methods), and streams encoder ticks,
currents, faults, battery and the emergency-stop input. Its own watchdog stops the motors when
commands stop coming. Tests can press its emergency-stop button, unplug it, or corrupt bytes.
Nothing here imports MuJoCo: the plant is duck-typed (:class:`Plant`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from mower_control.driver import Transport, TransportError
from mower_control.kinematics import DiffDrive
from mower_control.protocol import (
    Battery,
    BladeCommand,
    Decoder,
    EmergencyStopInput,
    EncoderTicks,
    Faults,
    Message,
    MotorCurrents,
    WheelSpeedCommand,
    encode,
)


class Plant(Protocol):
    """What the board drives: the simulator's mower."""

    time_s: float
    pose: tuple[float, float, float]

    def command(self, v_mps: float, w_radps: float, blade: bool | None = None) -> None:
        """Body velocity set-point and blade."""

    def encoders(self) -> np.ndarray:
        """Wheel angles (rad): left, right."""


@dataclass
class BatteryModel:
    """A simple battery: drains with use, charges on the dock. Percent per second."""

    charge_pct: float = 100.0
    idle_drain_pct_s: float = 0.002
    drive_drain_pct_s: float = 0.006  # extra while the wheels turn
    blade_drain_pct_s: float = 0.012  # extra while the blade runs
    charge_rate_pct_s: float = 0.05
    full_v: float = 29.4
    empty_v: float = 24.0

    def update(self, dt_s: float, driving: bool, blade: bool, charging: bool) -> None:
        """Advance by ``dt_s``."""
        if charging:
            self.charge_pct = min(100.0, self.charge_pct + self.charge_rate_pct_s * dt_s)
            return
        rate = (
            self.idle_drain_pct_s
            + driving * self.drive_drain_pct_s
            + blade * self.blade_drain_pct_s
        )
        self.charge_pct = max(0.0, self.charge_pct - rate * dt_s)

    @property
    def voltage_v(self) -> float:
        """A linear voltage curve."""
        return self.empty_v + (self.full_v - self.empty_v) * self.charge_pct / 100.0


class SimulatedBoard:
    """The motor board's firmware, in simulation."""

    ENCODER_PERIOD_S = 0.02
    STATUS_PERIOD_S = 0.1
    BATTERY_PERIOD_S = 1.0
    WATCHDOG_S = 0.5  # no wheel command for longer: motors off, fault bit 6

    def __init__(
        self,
        plant: Plant,
        drive: DiffDrive | None = None,
        battery: BatteryModel | None = None,
        dock_xy_yaw: tuple[float, float, float] | None = None,
    ) -> None:
        """Drive ``plant``; charge when it stands on the dock pose (within 12 cm, 20 deg)."""
        self.plant = plant
        self.drive = drive or DiffDrive()
        self.battery = battery or BatteryModel()
        self.dock = dock_xy_yaw
        self.decoder = Decoder()
        self.plugged = True
        self.estop_pressed = False
        self.corrupt_next = 0  # flip a bit in this many outgoing frames
        self.silent = False  # plugged in but sending nothing (a hung board)
        self._out = bytearray()
        self._seq = 0
        self._wheels = (0.0, 0.0)
        self._blade = False
        self._last_cmd_t = -math.inf
        self._t_enc = self._t_status = self._t_batt = -math.inf
        self._t_prev: float | None = None
        self.fault_bits = 0

    # -- the wire ---------------------------------------------------------------------------
    def receive(self, data: bytes) -> None:
        """Bytes from the computer."""
        for _, msg in self.decoder.feed(data):
            t = self.plant.time_s
            if isinstance(msg, WheelSpeedCommand):
                self._wheels = (msg.left_mm_s / 1000.0, msg.right_mm_s / 1000.0)
                self._last_cmd_t = t
                self.fault_bits &= ~(1 << 6)  # a command feeds the watchdog
            elif isinstance(msg, BladeCommand):
                self._blade = bool(msg.on)
        self._apply()

    def transmit(self) -> bytes:
        """Bytes for the computer (what the board has sent since the last call)."""
        self.update()
        out, self._out = bytes(self._out), bytearray()
        return b'' if self.silent else out

    def _send(self, msg: Message) -> None:
        frame = bytearray(encode(msg, self._seq))
        self._seq = (self._seq + 1) & 0xFF
        if self.corrupt_next > 0 and len(frame) > 3:
            self.corrupt_next -= 1
            frame[1] ^= 0x10 if frame[1] ^ 0x10 else 0x20  # never create a zero byte
        self._out += frame

    # -- firmware loop ------------------------------------------------------------------------
    def update(self) -> None:
        """Run the firmware up to the plant's time: watchdog, battery, telemetry."""
        t = self.plant.time_s
        if t == self._t_prev:
            return  # already run at this time (commands since then were applied on receipt)
        dt = 0.0 if self._t_prev is None else max(0.0, t - self._t_prev)
        self._t_prev = t
        if t - self._last_cmd_t > self.WATCHDOG_S:
            self.fault_bits |= 1 << 6
        else:
            self.fault_bits &= ~(1 << 6)
        self._apply()
        self.battery.update(
            dt,
            driving=any(abs(w) > 1e-3 for w in self._wheels_now()),
            blade=self._blade_now(),
            charging=self.charging,
        )
        if t - self._t_enc >= self.ENCODER_PERIOD_S:
            self._t_enc = t
            angles = self.plant.encoders()
            ticks = np.round(angles / (2 * math.pi) * self.drive.ticks_per_rev).astype(np.int64)
            self._send(EncoderTicks(int(ticks[0]), int(ticks[1]), int(t * 1e6) & 0xFFFFFFFF))
        if t - self._t_status >= self.STATUS_PERIOD_S:
            self._t_status = t
            left, right = (abs(w) for w in self._wheels_now())
            self._send(
                MotorCurrents(
                    int(300 + 1500 * left),
                    int(300 + 1500 * right),
                    2500 if self._blade_now() else 0,
                )
            )
            self._send(Faults(self.fault_bits))
            self._send(EmergencyStopInput(int(self.estop_pressed)))
        if t - self._t_batt >= self.BATTERY_PERIOD_S:
            self._t_batt = t
            b = self.battery
            self._send(
                Battery(
                    int(b.voltage_v * 1000), 1500, int(round(b.charge_pct)), int(self.charging)
                )
            )

    @property
    def charging(self) -> bool:
        """On the dock's contacts."""
        if self.dock is None:
            return False
        x, y, yaw = self.plant.pose
        dx, dy, dyaw = x - self.dock[0], y - self.dock[1], yaw - self.dock[2]
        return math.hypot(dx, dy) < 0.12 and abs(math.remainder(dyaw, 2 * math.pi)) < 0.35

    def _wheels_now(self) -> tuple[float, float]:
        if self.estop_pressed or self.fault_bits & (1 << 6):
            return 0.0, 0.0
        return self._wheels

    def _blade_now(self) -> bool:
        return self._blade and not self.estop_pressed and not self.fault_bits & (1 << 6)

    def _apply(self) -> None:
        left, right = self._wheels_now()
        v, w = self.drive.body_velocity(left, right)
        self.plant.command(v, w, self._blade_now())

    # -- what tests do to it ------------------------------------------------------------------
    def press_estop(self, pressed: bool = True) -> None:
        """The red button on the mower: the board cuts the motors itself, and reports it."""
        self.estop_pressed = pressed
        self._apply()


class SimTransport(Transport):
    """Connects :class:`~mower_control.driver.MotorDriver` to a :class:`SimulatedBoard`."""

    def __init__(self, board: SimulatedBoard) -> None:
        """A cable to ``board`` (unplug it with ``board.plugged = False``)."""
        self.board = board
        self._open = False

    def open(self) -> None:
        """Connect; fails while the board is unplugged."""
        if not self.board.plugged:
            raise TransportError('simulated board: not plugged in')
        self._open = True

    def close(self) -> None:
        """Disconnect."""
        self._open = False

    @property
    def is_open(self) -> bool:
        """Connected."""
        return self._open

    def write(self, data: bytes) -> None:
        """To the board."""
        self._check()
        self.board.receive(data)

    def read(self) -> bytes:
        """From the board."""
        self._check()
        return self.board.transmit()

    def _check(self) -> None:
        if not self._open:
            raise TransportError('simulated board: not open')
        if not self.board.plugged:
            self.board.update()  # the board runs on (its watchdog stops the motors)
            raise TransportError('simulated board: cable unplugged')


class KinematicPlant:
    """An ideal differential-drive mower (no physics).

    The plant behind the simulation transport of ``motor_driver_node`` when no simulator runs,
    for dry runs of the stack.
    """

    def __init__(
        self, drive: DiffDrive | None = None, pose: tuple[float, float, float] = (0.0, 0.0, 0.0)
    ) -> None:
        """Start at ``pose`` (x, y, yaw), at rest."""
        self.drive = drive or DiffDrive()
        self.time_s = 0.0
        self.pose = pose
        self.v = self.w = 0.0
        self.blade = False
        self.wheels = np.zeros(2)

    def command(self, v_mps: float, w_radps: float, blade: bool | None = None) -> None:
        """Body velocity set-point (reached at once) and blade."""
        self.v, self.w = v_mps, w_radps
        if blade is not None:
            self.blade = bool(blade)

    def encoders(self) -> np.ndarray:
        """Wheel angles (rad): left, right."""
        return self.wheels.copy()

    def advance(self, dt_s: float) -> None:
        """Move on by ``dt_s`` (exact arc)."""
        x, y, yaw = self.pose
        ds, dyaw = self.v * dt_s, self.w * dt_s
        if abs(dyaw) < 1e-9:
            x, y = x + ds * math.cos(yaw), y + ds * math.sin(yaw)
        else:
            r = ds / dyaw
            x += r * (math.sin(yaw + dyaw) - math.sin(yaw))
            y -= r * (math.cos(yaw + dyaw) - math.cos(yaw))
        self.pose = (x, y, math.remainder(yaw + dyaw, 2 * math.pi))
        left, right = self.drive.wheel_speeds(self.v, self.w)
        self.wheels += np.array([left, right]) / self.drive.wheel_radius_m * dt_s
        self.time_s += dt_s
