"""The motor driver: speaks the board protocol over a transport and keeps the robot's state.

:class:`MotorDriver` turns body velocities into wheel speed commands and blade commands, and the
board's messages into odometry, battery, currents, faults and the hardware emergency-stop input.
It owns the link's health: a board silent for ``link_timeout_s`` is *disconnected*: the driver
reports it (the safety supervisor then sees stale odometry and stops everything), closes the
transport and tries to reopen it every ``reconnect_period_s``. Frames with a bad CRC and
timeouts are counted for diagnostics.

Transports: :class:`SerialTransport` (pyserial, a real board) and
``mower_control.sim_board.SimTransport`` (the same driver against the simulated mower).
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass, field

from mower_control.kinematics import DiffDrive, Odometry
from mower_control.protocol import (
    FAULT_BITS,
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
from mower_node_kit.params import check_ranges, param


class TransportError(IOError):
    """The link to the board failed (unplugged, port gone, write failed)."""


class Transport(ABC):
    """A byte pipe to the motor board."""

    @abstractmethod
    def open(self) -> None:
        """Open the link; raise :class:`TransportError` if it cannot be opened."""

    @abstractmethod
    def close(self) -> None:
        """Close the link (idempotent)."""

    @property
    @abstractmethod
    def is_open(self) -> bool:
        """Whether the link is open."""

    @abstractmethod
    def write(self, data: bytes) -> None:
        """Send bytes; raise :class:`TransportError` on failure."""

    @abstractmethod
    def read(self) -> bytes:
        """Whatever bytes have arrived (never blocks long); raise TransportError on failure."""


class SerialTransport(Transport):
    """A serial port through pyserial (any URL pyserial knows: /dev/ttyACM0, loop://, ...)."""

    def __init__(self, port: str, baudrate: int = 115200, timeout_s: float = 0.002) -> None:
        """Remember the settings; :meth:`open` opens the port."""
        self.port, self.baudrate, self.timeout_s = port, baudrate, timeout_s
        self._serial = None

    def open(self) -> None:
        """Open the port."""
        import serial  # pyserial; imported here so the core imports without it

        try:
            self._serial = serial.serial_for_url(
                self.port, baudrate=self.baudrate, timeout=self.timeout_s, write_timeout=0.05
            )
        except (serial.SerialException, OSError, ValueError) as exc:
            self._serial = None
            raise TransportError(f'cannot open {self.port}: {exc}') from exc

    def close(self) -> None:
        """Close the port."""
        if self._serial is not None:
            try:
                self._serial.close()
            finally:
                self._serial = None

    @property
    def is_open(self) -> bool:
        """Whether the port is open."""
        return self._serial is not None and self._serial.is_open

    def write(self, data: bytes) -> None:
        """Write a frame."""
        import serial

        if self._serial is None:
            raise TransportError(f'{self.port} is not open')
        try:
            self._serial.write(data)
        except (serial.SerialException, OSError) as exc:
            raise TransportError(f'write to {self.port} failed: {exc}') from exc

    def read(self) -> bytes:
        """Read what is waiting."""
        import serial

        if self._serial is None:
            raise TransportError(f'{self.port} is not open')
        try:
            n = self._serial.in_waiting
            return self._serial.read(n) if n else b''
        except (serial.SerialException, OSError) as exc:
            raise TransportError(f'read from {self.port} failed: {exc}') from exc


@dataclass(frozen=True)
class DriverParams:
    """Settings of the driver. Units are in the names."""

    drive: DiffDrive = field(default_factory=DiffDrive)
    max_wheel_speed_mps: float = param(
        1.0, 'wheel rim speed limit; commands are scaled down together', 0.01, 5.0
    )
    blade_rpm: int = param(3000, 'blade speed when on', 0, 10000)
    link_timeout_s: float = param(
        0.25, 'no frame from the board for longer: disconnected', 0.01, 60.0
    )
    reconnect_period_s: float = param(1.0, 'time between reconnection attempts', 0.01, 600.0)
    low_battery_pct: float = param(20.0, 'battery below this is reported as a warning', 0.0, 100.0)

    def __post_init__(self) -> None:
        """Every value of its type, finite and in its range (``drive`` checks its own)."""
        check_ranges(self)


@dataclass
class DriverStatus:
    """What the driver knows about the board and the link."""

    connected: bool = False
    connects: int = 0  # successful (re)connections
    disconnects: int = 0
    timeouts: int = 0  # link timeouts (board silent)
    transport_errors: int = 0
    last_error: str = ''
    battery_pct: float = math.nan
    battery_v: float = math.nan
    charging: bool = False
    currents_ma: tuple[int, int, int] = (0, 0, 0)
    faults: tuple[str, ...] = ()
    estop_pressed: bool = False
    blade_on: bool = False


class MotorDriver:
    """The computer's side of the board protocol."""

    def __init__(self, transport: Transport, params: DriverParams | None = None) -> None:
        """Use ``transport``; call :meth:`spin` regularly (for example at 50 Hz)."""
        self.transport = transport
        self.params = params or DriverParams()
        self.decoder = Decoder()
        self.odometry = Odometry(self.params.drive)
        self.status = DriverStatus()
        self._seq = 0
        self._last_rx: float | None = None
        self._next_attempt = -math.inf

    # -- commands -----------------------------------------------------------------------
    def send_velocity(self, v_mps: float, w_radps: float) -> None:
        """Wheel speed set-points for a body velocity (scaled to the wheel speed limit)."""
        d = self.params.drive
        v, w = d.limit(v_mps, w_radps, self.params.max_wheel_speed_mps)
        left, right = d.wheel_speeds(v, w)
        self._send(WheelSpeedCommand(int(round(left * 1000)), int(round(right * 1000))))

    def send_blade(self, on: bool) -> None:
        """Blade on (at ``blade_rpm``) or off."""
        self.status.blade_on = bool(on) and self.status.connected
        self._send(BladeCommand(int(bool(on)), self.params.blade_rpm if on else 0))

    def _send(self, msg: Message) -> None:
        if not self.status.connected:
            return
        try:
            self.transport.write(encode(msg, self._seq))
            self._seq = (self._seq + 1) & 0xFF
        except TransportError as exc:
            self._lost(str(exc))

    # -- the link -----------------------------------------------------------------------
    def spin(self, time_s: float) -> list[Message]:
        """Read and handle the board's messages; check the link; reconnect when due."""
        st = self.status
        if not st.connected:
            if time_s >= self._next_attempt:
                self._next_attempt = time_s + self.params.reconnect_period_s
                try:
                    self.transport.close()
                    self.transport.open()
                except TransportError as exc:
                    st.transport_errors += 1
                    st.last_error = str(exc)
                    return []
                st.connected = True
                st.connects += 1
                self._last_rx = time_s
                self.decoder = Decoder(stats=self.decoder.stats)
            else:
                return []
        try:
            data = self.transport.read()
        except TransportError as exc:
            self._lost(str(exc))
            return []
        msgs = [m for _, m in self.decoder.feed(data)]
        if msgs:
            self._last_rx = time_s
        for m in msgs:
            self._handle(m)
        if self._last_rx is not None and time_s - self._last_rx > self.params.link_timeout_s:
            st.timeouts += 1
            self._lost(f'no data from the board for {time_s - self._last_rx:.2f} s')
        return msgs

    def _lost(self, why: str) -> None:
        st = self.status
        if st.connected:
            st.disconnects += 1
        st.connected = False
        st.blade_on = False
        st.last_error = why
        self.odometry.rebase()  # encoder counts may restart with the board
        try:
            self.transport.close()
        except TransportError:
            pass

    def _handle(self, m: Message) -> None:
        st = self.status
        if isinstance(m, EncoderTicks):
            self.odometry.update(m.left, m.right, m.time_us)
        elif isinstance(m, Battery):
            st.battery_pct, st.battery_v = float(m.charge_pct), m.voltage_mv / 1000.0
            st.charging = bool(m.charging)
        elif isinstance(m, MotorCurrents):
            st.currents_ma = (m.left_ma, m.right_ma, m.blade_ma)
        elif isinstance(m, Faults):
            st.faults = tuple(text for bit, text in FAULT_BITS.items() if m.bits >> bit & 1)
        elif isinstance(m, EmergencyStopInput):
            st.estop_pressed = bool(m.pressed)

    def diagnostics(self) -> dict[str, str]:
        """Key/value pairs for diagnostic_msgs."""
        st, ds = self.status, self.decoder.stats
        return {
            'connected': str(st.connected),
            'connects': str(st.connects),
            'disconnects': str(st.disconnects),
            'timeouts': str(st.timeouts),
            'transport_errors': str(st.transport_errors),
            'last_error': st.last_error,
            'frames': str(ds.frames),
            'crc_errors': str(ds.crc_errors),
            'framing_errors': str(ds.framing_errors),
            'unknown_types': str(ds.unknown_types),
            'version_errors': str(ds.version_errors),
            'sequence_gaps': str(ds.sequence_gaps),
            'battery_pct': f'{st.battery_pct:.0f}',
            'charging': str(st.charging),
            'faults': ', '.join(st.faults) or 'none',
            'estop_input': str(st.estop_pressed),
        }
