"""The one main() of the nodes (run_node) on the strict rclpy double."""

from __future__ import annotations

import ast
import importlib
import signal

import pytest
from conftest import ROOT


def tiny_node_class(log: list[str]):
    from rclpy.node import Node

    class Tiny(Node):
        def __init__(self) -> None:
            super().__init__('tiny')

        def destroy_node(self) -> None:
            log.append('destroyed')
            super().destroy_node()

    return Tiny


@pytest.mark.parametrize('signum', [signal.SIGTERM, signal.SIGINT])
def test_a_signal_is_a_clean_exit(ros, signum):
    from rclpy.context import default_context

    from mower_node_kit.main import run_node

    log: list[str] = []
    ros.shutdown()  # run_node initialises rclpy itself
    default_context().signal_on_spin(signum)
    status = run_node(tiny_node_class(log), on_exit=lambda node: log.append(node.get_name()))
    assert status == 0
    assert log == ['tiny', 'destroyed']  # on_exit first, then the node goes
    assert not ros.ok()


def test_a_start_up_error_is_a_message_and_status_1(ros, capsys):
    from mower_node_kit.main import run_node

    def broken():
        raise FileNotFoundError('no such map: lawn.geojson')

    ros.shutdown()
    assert run_node(broken, startup_errors=(FileNotFoundError,)) == 1
    assert 'no such map: lawn.geojson' in capsys.readouterr().err
    assert not ros.ok()
    with pytest.raises(ZeroDivisionError):  # not a declared start-up error: a traceback
        run_node(lambda: 1 / 0, startup_errors=(FileNotFoundError,))
    assert not ros.ok()


def test_a_crash_in_spin_propagates_after_the_clean_up(ros, monkeypatch):
    from mower_node_kit.main import run_node

    def crash(node, executor=None):
        raise RuntimeError('callback failed')

    monkeypatch.setattr(ros, 'spin', crash)
    log: list[str] = []
    ros.shutdown()
    with pytest.raises(RuntimeError, match='callback failed'):
        run_node(tiny_node_class(log))
    assert log == ['destroyed'] and not ros.ok()


def node_modules() -> list[str]:
    """Every ``*_node = pkg.module:main`` entry point of the packages."""
    out = []
    for setup in sorted((ROOT / 'src').glob('*/setup.py')):
        for node in ast.walk(ast.parse(setup.read_text())):
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and '_node = ' in node.value
            ):
                out.append(node.value.split('=')[1].strip().split(':')[0])
    assert len(out) >= 9, out
    return out


@pytest.mark.parametrize('module', node_modules())
def test_every_node_main_is_run_node(ros, monkeypatch, module):
    mod = importlib.import_module(module)
    calls = []
    monkeypatch.setattr(mod, 'run_node', lambda *a, **k: calls.append((a, k)) or 0)
    assert mod.main(['--ros-args']) == 0
    (((make_node, args), _),) = calls
    assert args == ['--ros-args'] and make_node.__module__ == module


def test_a_parameter_out_of_its_range_is_a_message_and_status_1(ros, capsys):
    from rclpy.parameter import Parameter

    from mower_control.controller_node import ControllerNode
    from mower_node_kit.main import run_node

    def bad():
        return ControllerNode(parameter_overrides=[Parameter('control_rate_hz', value=0.0)])

    ros.shutdown()  # run_node initialises rclpy itself
    assert run_node(bad) == 1
    err = capsys.readouterr().err
    assert 'control_rate_hz' in err and 'Traceback' not in err
