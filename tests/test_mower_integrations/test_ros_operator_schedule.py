"""The robot follows the mowing schedule: RosOperator on the strict rclpy double.

The same ScheduleFollower as the simulator's operator, on the robot's wall clock and its rain
sensor (``mower/rain``). Not run on ROS 2 (not installable here).
"""

from __future__ import annotations

import datetime
import json

import pytest
from conftest import MAPS

pytestmark = pytest.mark.usefixtures('ros')

MONDAY_0859 = datetime.datetime(2026, 6, 1, 8, 59)  # 2026-06-01 is a Monday


class Wall:
    def __init__(self) -> None:
        self.now = MONDAY_0859

    def __call__(self) -> datetime.datetime:
        return self.now


def make(wall: Wall):
    from rclpy.node import Node

    from mower_integrations.operator_node import RosOperator

    node = Node('schedule_test')
    results = []
    op = RosOperator(
        node,
        map_file=str(MAPS / 'demo_lawn.geojson'),
        on_result=lambda *r: results.append(r),
        local_time=wall,
    )
    return node, op, results


def docked(node, op, clock_s: float) -> None:
    from sensor_msgs.msg import BatteryState
    from std_msgs.msg import String

    state = {'state': 'CHARGING', 'mowed_pct': 0.0, 'progress_m': 0.0, 'message': '', 'zone': 0}
    sub = {s.topic: s for s in node.subscriptions}
    sub['mower/state'].deliver(String(data=json.dumps(state)))
    sub['battery'].deliver(
        BatteryState(percentage=0.9, power_supply_status=BatteryState.POWER_SUPPLY_STATUS_CHARGING)
    )
    node.get_clock().set_now(clock_s)
    op.step()


def test_a_window_starts_the_mission_once_and_rain_keeps_it_docked():
    from std_msgs.msg import Bool

    from mower_control.mowing_schedule import Schedule, Window

    wall = Wall()
    node, op, results = make(wall)
    op.set_schedule(Schedule(windows=(Window(0, '09:00', '11:00'),), rain_rule='skip'))
    assert op.status().next_run == '2026-06-01T09:00'
    start = op.requests['start']
    docked(node, op, 10.0)
    assert not start.requests  # 08:59: not yet
    wall.now = MONDAY_0859 + datetime.timedelta(minutes=1, seconds=5)
    docked(node, op, 11.5)
    assert len(start.requests) == 1  # the window opened: mower/start called
    start.respond(success=True, message='starting')
    assert results[-1] == ('start', 0, True, 'starting')
    docked(node, op, 13.0)  # the owner sent it home: the same window does not start it again
    assert len(start.requests) == 1
    assert op.status().next_run == '2026-06-08T09:00'

    node2, op2, _ = make(wall)  # another robot, in the rain
    op2.set_schedule(Schedule(windows=(Window(0, '09:00', '11:00'),), rain_rule='skip'))
    rain = next(s for s in node2.subscriptions if s.topic == 'mower/rain')
    rain.deliver(Bool(data=True))
    docked(node2, op2, 20.0)
    assert not op2.requests['start'].requests


def test_the_window_closing_calls_mower_dock():
    from std_msgs.msg import String

    from mower_control.mowing_schedule import Schedule, Window

    wall = Wall()
    node, op, results = make(wall)
    op.set_schedule(Schedule(windows=(Window(0, '09:00', '09:30'),)))
    wall.now = MONDAY_0859 + datetime.timedelta(minutes=1)
    docked(node, op, 10.0)
    assert len(op.requests['start'].requests) == 1
    mowing = {'state': 'MOWING', 'mowed_pct': 5.0, 'progress_m': 3.0, 'message': '', 'zone': 0}
    sub = {s.topic: s for s in node.subscriptions}
    sub['mower/state'].deliver(String(data=json.dumps(mowing)))
    wall.now = MONDAY_0859 + datetime.timedelta(minutes=31)  # 09:30: the window closed
    node.get_clock().set_now(12.0)
    op.step()
    dock = op.requests['dock']
    assert len(dock.requests) == 1
    dock.respond(success=True, message='returning to the dock')
    assert results[-1] == ('dock', 0, True, 'returning to the dock')
    node.get_clock().set_now(14.0)
    op.step()
    assert len(dock.requests) == 1  # once
