"""The motor driver: serial transport (pyserial loop://), simulated board, link health."""

from __future__ import annotations

import math

import pytest

from mower_control.driver import MotorDriver, SerialTransport, TransportError
from mower_control.protocol import (
    Battery,
    BladeCommand,
    Decoder,
    EncoderTicks,
    WheelSpeedCommand,
    encode,
)
from mower_control.sim_board import KinematicPlant, SimTransport, SimulatedBoard


def rig(**board_kw):
    plant = KinematicPlant()
    board = SimulatedBoard(plant, **board_kw)
    driver = MotorDriver(SimTransport(board))
    return plant, board, driver


def run(plant, board, driver, seconds, v=0.0, w=0.0, blade=False):
    for _ in range(int(round(seconds / 0.02))):
        driver.spin(plant.time_s)
        driver.send_velocity(v, w)
        driver.send_blade(blade)
        board.update()
        plant.advance(0.02)


def test_drives_the_board_and_integrates_odometry():
    plant, board, driver = rig()
    run(plant, board, driver, 4.0, v=0.4, w=0.2, blade=True)
    assert driver.status.connected and plant.blade
    o = driver.odometry
    assert math.hypot(o.x_m - plant.pose[0], o.y_m - plant.pose[1]) < 0.01
    assert abs(o.yaw_rad - plant.pose[2]) < 0.01
    assert o.v_mps == pytest.approx(0.4, abs=0.03)  # one tick in 15 per 20 ms sample
    assert driver.status.battery_pct == 100.0
    d = driver.diagnostics()
    assert d['crc_errors'] == '0' and d['sequence_gaps'] == '0' and int(d['frames']) > 200


def test_wheel_speeds_are_limited_together():
    plant, board, driver = rig()
    run(plant, board, driver, 0.1, v=3.0, w=0.0)
    assert plant.v == pytest.approx(driver.params.max_wheel_speed_mps, abs=1e-3)


def test_crc_errors_are_counted_and_skipped():
    plant, board, driver = rig()
    run(plant, board, driver, 0.5)
    board.corrupt_next = 5
    run(plant, board, driver, 0.5)
    assert driver.decoder.stats.crc_errors + driver.decoder.stats.framing_errors == 5
    assert driver.status.connected


def test_board_watchdog_stops_motors_without_commands():
    plant, board, driver = rig()
    run(plant, board, driver, 0.5, v=0.5)
    assert plant.v == pytest.approx(0.5)
    for _ in range(40):  # the computer stops sending
        board.update()
        plant.advance(0.02)
    assert plant.v == 0.0 and board.fault_bits & (1 << 6)


def test_silent_board_times_out_and_reconnects():
    plant, board, driver = rig()
    run(plant, board, driver, 0.5)
    board.silent = True
    run(plant, board, driver, 0.5)
    assert not driver.status.connected and driver.status.timeouts == 1
    board.silent = False
    run(plant, board, driver, 1.5)
    assert driver.status.connected and driver.status.connects == 2


def test_hardware_estop_input_reaches_the_driver():
    plant, board, driver = rig()
    run(plant, board, driver, 0.3, v=0.3, blade=True)
    board.press_estop()
    assert plant.v == 0.0 and not plant.blade  # the board acts by itself
    run(plant, board, driver, 0.3, v=0.3, blade=True)
    assert driver.status.estop_pressed and plant.v == 0.0


def test_charging_on_the_dock():
    plant, board, driver = rig(dock_xy_yaw=(0.0, 0.0, 0.0))
    run(plant, board, driver, 1.1)
    assert driver.status.charging


def test_serial_transport_round_trip_over_pyserial_loop():
    t = SerialTransport('loop://')
    driver = MotorDriver(t)
    driver.spin(0.0)
    assert driver.status.connected
    driver.send_velocity(0.5, 0.0)
    driver.send_blade(True)
    got = Decoder().feed(t.read())  # loop:// hands our own frames back
    msgs = [m for _, m in got]
    assert msgs == [WheelSpeedCommand(500, 500), BladeCommand(1, driver.params.blade_rpm)]
    t.write(encode(EncoderTicks(10, 12, 1000), 0) + encode(Battery(28000, 100, 80, 0), 1))
    driver.spin(0.01)
    assert driver.status.battery_pct == 80.0
    t.close()


def test_serial_port_that_does_not_exist_is_retried_and_reported():
    driver = MotorDriver(SerialTransport('/dev/does-not-exist'))
    for k in range(5):
        driver.spin(k * 0.3)
    st = driver.status
    assert not st.connected and st.transport_errors == 2  # every reconnect_period_s
    assert 'cannot open /dev/does-not-exist' in st.last_error


def test_transport_errors_are_typed():
    t = SerialTransport('loop://')
    with pytest.raises(TransportError, match='not open'):
        t.write(b'x')
