"""Teach mode through the robot's operator: RosOperator on the strict rclpy double.

Teach requests go to mission_node's ``teach/*`` Trigger services and the caller gets the
service's answer; the joystick goes out on ``cmd_vel_teleop`` (Twist) from the node's timer,
only while ``mower/state`` says TEACHING, clamped, and stopped by the deadman. Not run on ROS 2
(not installable here).
"""

from __future__ import annotations

import json
import threading

import pytest

pytestmark = pytest.mark.usefixtures('ros')


def make():
    from rclpy.node import Node

    from mower_integrations.operator_node import RosOperator

    node = Node('teach_test')
    results = []
    op = RosOperator(node, on_result=lambda *r: results.append(r))
    return node, op, results


def state(node, name: str) -> None:
    from std_msgs.msg import String

    sub = next(s for s in node.subscriptions if s.topic == 'mower/state')
    doc = {'state': name, 'mowed_pct': 0.0, 'progress_m': 0.0, 'message': '', 'zone': 0}
    sub.deliver(String(data=json.dumps(doc)))


def tick(node, op, clock_s: float) -> None:
    node.get_clock().set_now(clock_s)
    op.step()


def in_thread(call):
    """Run ``call`` (which waits for the node's timer) in a thread: (thread, result holder)."""
    out: dict = {}
    thread = threading.Thread(target=lambda: out.setdefault('answer', call()))
    thread.start()
    return thread, out


def test_teach_requests_reach_mission_nodes_services_and_answer_the_caller():
    from std_srvs.srv import Trigger

    from mower_control.mission import TEACH_REQUESTS

    node, op, results = make()
    clients = {c.srv_name: c for c in node.clients}
    assert set(TEACH_REQUESTS) <= set(clients)
    assert all(clients[r].srv_type is Trigger for r in TEACH_REQUESTS)

    ok, why = op.teach('fly')
    assert not ok and why.startswith("unknown teach request 'fly'")
    start = clients['teach/start']
    thread, out = in_thread(lambda: op.teach('start'))
    while not start.requests and thread.is_alive():
        tick(node, op, 1.0)  # the timer makes the call (the executor's thread)
    start.respond(success=True, message='teaching: drive with teleop; the blade stays off')
    thread.join(5)
    assert out['answer'] == (True, 'teaching: drive with teleop; the blade stays off')
    assert results[-1] == ('teach/start', 0, True, out['answer'][1])

    finish = clients['teach/finish']
    thread, out = in_thread(lambda: op.teach('teach/finish'))  # the full name does too
    while not finish.requests and thread.is_alive():
        tick(node, op, 2.0)
    finish.respond(success=False, message='no boundary recorded')
    thread.join(5)
    assert out['answer'] == (False, 'no boundary recorded')

    clients['teach/undo'].ready = False  # mission_node is not running
    thread, out = in_thread(lambda: op.teach('undo'))
    while thread.is_alive():
        tick(node, op, 3.0)
        thread.join(0.01)
    assert out['answer'] == (False, 'teach/undo is not available (is mission_node running?)')
    assert not clients['teach/undo'].requests


def test_a_service_that_never_answers_gives_up(monkeypatch):
    import importlib

    operator_node = importlib.import_module('mower_integrations.operator_node')  # this test's
    monkeypatch.setattr(operator_node, 'TEACH_TIMEOUT_S', 0.2)
    node, op, _ = make()
    cancel = next(c for c in node.clients if c.srv_name == 'teach/cancel')
    thread, out = in_thread(lambda: op.teach('cancel'))
    while not cancel.requests and thread.is_alive():
        tick(node, op, 1.0)
    thread.join(5)
    assert out['answer'] == (False, 'teach/cancel gave no answer in 0 s')
    cancel.respond(success=True, message='teaching cancelled')  # late: only logged
    assert not thread.is_alive()


def twists(node) -> list[tuple[float, float]]:
    pub = next(p for p in node.publishers if p.topic == 'cmd_vel_teleop')
    return [(m.linear.x, m.angular.z) for m in pub.published]


def test_the_joystick_drives_only_while_teaching_and_the_deadman_stops_it():
    from geometry_msgs.msg import Twist

    node, op, _ = make()
    pub = next(p for p in node.publishers if p.topic == 'cmd_vel_teleop')
    assert pub.msg_type is Twist

    ok, why = op.drive(0.3, 0.0)  # no mower/state yet
    assert not ok and why.startswith('not teaching (UNKNOWN)')
    state(node, 'IDLE')
    ok, why = op.drive(0.3, 0.0)
    assert not ok and why.startswith('not teaching (IDLE)')
    tick(node, op, 10.0)
    assert twists(node) == []  # nothing held: the teleop is silent

    state(node, 'TEACHING')
    assert op.drive(0.3, 0.1) == (True, 'driving +0.30 m/s, +0.10 rad/s')
    tick(node, op, 10.0)  # the timer takes it at 10.0 s
    tick(node, op, 10.3)
    tick(node, op, 10.5)
    assert twists(node) == [(0.3, 0.1)] * 3
    tick(node, op, 10.6)  # no fresh command for more than 0.5 s: the wheels stop
    tick(node, op, 10.7)  # and the teleop falls silent
    assert twists(node)[3:] == [(0.0, 0.0)]

    assert op.drive(2.0, -3.0)[0]  # clamped to the top speeds
    assert op.drive(0.2, 0.0)[0]  # two before a tick: the newest counts
    tick(node, op, 11.0)
    assert twists(node)[-1] == (0.2, 0.0)
    assert op.drive(2.0, -3.0) == (True, 'driving +0.50 m/s, -1.00 rad/s')
    tick(node, op, 11.1)
    assert twists(node)[-1] == (0.5, -1.0)
    n = len(twists(node))
    state(node, 'ERROR')  # an emergency stop while driving: stopped at once, then silent
    tick(node, op, 11.2)
    tick(node, op, 11.3)
    assert twists(node)[n:] == [(0.0, 0.0)]

    state(node, 'TEACHING')
    for bad in ((float('nan'), 0.0), (0.0, float('inf'))):
        ok, why = op.drive(*bad)
        assert not ok and 'finite' in why
    assert op.drive(0.0, 0.0) == (True, 'stopped')


def test_a_failed_or_empty_service_call_is_an_answer_in_words():
    from rclpy.task import Future

    from mower_integrations.operator_node import trigger_answer

    failed, empty = Future(), Future()
    failed.set_exception(RuntimeError('the service went away'))
    empty.set_result(None)
    assert trigger_answer(failed, 'teach/dock') == (
        False,
        'teach/dock failed: the service went away',
    )
    assert trigger_answer(empty, 'teach/dock') == (False, 'teach/dock gave no answer')
