"""A damaged mission state file: kept aside, logged, the mission starts from the beginning."""

from __future__ import annotations

import json
import math
import os
import tempfile
from pathlib import Path

import numpy as np
import pytest
import yaml
from conftest import MAPS, ROOT
from hypothesis import given, settings
from hypothesis import strategies as st

from mower_control.mission_state import (
    MissionState,
    MissionStateError,
    load_state,
    read_state,
    save_state,
)


def make_node(ros, **changes):
    from rclpy.parameter import Parameter

    from mower_control.mission_node import MissionNode

    doc = yaml.safe_load((ROOT / 'config' / 'mission.yaml').read_text())
    values = doc['/**/mission_node']['ros__parameters']
    values['map_file'] = str(MAPS / 'demo_lawn.geojson')
    values.update(changes)
    return MissionNode(parameter_overrides=[Parameter(k, value=v) for k, v in values.items()])


DAMAGED = {
    'progress NaN': '{"progress_m": NaN, "complete": false}',
    'progress Infinity': '{"progress_m": Infinity, "complete": false}',
    'progress 1e308': '{"progress_m": 1e308, "complete": false}',
    'progress 1e400': '{"progress_m": 1e400, "complete": false}',
    'progress -1': '{"progress_m": -1, "complete": false}',
    'progress a string': '{"progress_m": "12.5", "complete": false}',
    'progress true': '{"progress_m": true, "complete": false}',
    'complete "false"': '{"progress_m": 12.5, "complete": "false"}',
    'complete 0': '{"progress_m": 12.5, "complete": 0}',
    'not JSON': 'garbage',
    'zero bytes': '',
    'truncated': '{"progress_m": 12.5, "comp',
    'not an object': '[12.5, false]',
    'a missing key': '{"progress_m": 12.5}',
    'an unknown key': '{"progress_m": 12.5, "complete": false, "plan": 3}',
    'not UTF-8': b'{"progress_m": 1\xff, "complete": false}',
    'deeply nested': '[' * 3000 + ']' * 3000,
    'skipped not a list': '{"progress_m": 1, "complete": false, "skipped": 3, "skips": 1}',
    'skipped of pairs': '{"progress_m": 1, "complete": false, "skipped": [[1, 2]], "skips": 1}',
    'skipped NaN': '{"progress_m": 1, "complete": false, "skipped": [[NaN, 2, 0.6]], "skips": 1}',
    'skipped huge': '{"progress_m": 1, "complete": false, "skipped": [[1e308, 2, 0.6]], '
    '"skips": 1}',
    'skipped radius 0': '{"progress_m": 1, "complete": false, "skipped": [[1, 2, 0]], "skips": 1}',
    'skipped a string': '{"progress_m": 1, "complete": false, "skipped": [["1", 2, 0.6]], '
    '"skips": 1}',
    'skipped too many': '{"progress_m": 1, "complete": false, "skipped": ['
    + ','.join(['[1, 2, 0.6]'] * 1001)
    + '], "skips": 1001}',
    'skips below the stretches': '{"progress_m": 1, "complete": false, '
    '"skipped": [[1, 2, 0.6], [3, 4, 0.6]], "skips": 1}',
    'skips 1.5': '{"progress_m": 1, "complete": false, "skipped": [], "skips": 1.5}',
    'skips true': '{"progress_m": 1, "complete": false, "skipped": [], "skips": true}',
    'skips huge': '{"progress_m": 1, "complete": false, "skipped": [], "skips": 100000}',
}


def damaged(name: str) -> bytes:
    data = DAMAGED[name]
    return data if isinstance(data, bytes) else data.encode()


def aside(folder: Path) -> list[Path]:
    return sorted(folder.glob('mission.json.damaged-*'))


# -- the core ----------------------------------------------------------------------------------


@pytest.mark.parametrize('name', sorted(DAMAGED))
def test_read_state_raises_one_error_type_naming_the_file(tmp_path, name):
    path = tmp_path / 'mission.json'
    path.write_bytes(damaged(name))
    with pytest.raises(MissionStateError, match=str(path)) as caught:
        read_state(path)
    assert '\n' not in str(caught.value)
    assert path.read_bytes() == damaged(name)


@pytest.mark.parametrize('name', sorted(DAMAGED))
def test_load_state_keeps_a_damaged_file_aside(tmp_path, name):
    path = tmp_path / 'mission.json'
    path.write_bytes(damaged(name))
    state, message = load_state(path)
    assert state is None
    (kept,) = aside(tmp_path)
    assert kept.read_bytes() == damaged(name) and not path.exists()
    assert str(path) in message and str(kept) in message and '\n' not in message


@pytest.mark.parametrize(
    'state',
    [
        MissionState(0.0, False),
        MissionState(42.125, True),
        MissionState(1e6, False),
        MissionState(1 / 3, True),
        MissionState(12.5, False, ((4.5, -2.0, 0.6), (1 / 3, 7.0, 1.2)), 3),
        MissionState(0.0, True, ((-1e6, 1e6, 1e-3),), 10000),
    ],
)
def test_a_good_state_round_trips_exactly(tmp_path, state):
    path = save_state(tmp_path / 'deep' / 'mission.json', state)
    assert read_state(path) == state
    assert load_state(path)[0] == state
    assert json.loads(path.read_text()) == {
        'progress_m': state.progress_m,
        'complete': state.complete,
        'skipped': [list(disc) for disc in state.skipped],
        'skips': state.skips,
    }
    assert [p.name for p in (tmp_path / 'deep').iterdir()] == ['mission.json']


@pytest.mark.parametrize('progress', [math.nan, math.inf, -math.inf, 1e308, -1.0])
def test_save_state_refuses_what_it_could_not_read_back(tmp_path, progress):
    path = save_state(tmp_path / 'mission.json', MissionState(5.0, False))
    with pytest.raises(MissionStateError, match='progress_m'):
        save_state(path, MissionState(progress, False))
    assert read_state(path) == MissionState(5.0, False)
    with pytest.raises(MissionStateError, match='complete'):
        save_state(path, MissionState(5.0, 'false'))


def test_a_state_written_before_the_skipped_stretches_were_kept_still_loads(tmp_path):
    path = tmp_path / 'mission.json'
    path.write_text('{"progress_m": 12.5, "complete": false}')
    state, message = load_state(path)
    assert state == MissionState(12.5, False, (), 0) and 'restored' in message
    assert path.exists() and not aside(tmp_path)


def test_save_state_refuses_skipped_stretches_it_could_not_read_back(tmp_path):
    path = save_state(tmp_path / 'mission.json', MissionState(5.0, False))
    for bad, match in [
        (MissionState(5.0, False, ((math.nan, 0.0, 0.6),), 1), 'centre'),
        (MissionState(5.0, False, ((0.0, 0.0, -0.6),), 1), 'radius'),
        (MissionState(5.0, False, ((0.0, 0.0, 0.6),), 0), 'skips'),
    ]:
        with pytest.raises(MissionStateError, match=match):
            save_state(path, bad)
    assert read_state(path) == MissionState(5.0, False)


def test_no_file_is_an_empty_start(tmp_path):
    assert load_state('') == (None, '')
    assert load_state(tmp_path / 'mission.json') == (None, '')
    assert list(tmp_path.iterdir()) == []


def test_save_state_fsyncs_the_file_before_the_rename_and_the_folder_after(tmp_path, monkeypatch):
    events = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd):
        events.append(('fsync', os.path.isdir(f'/proc/self/fd/{fd}')))
        real_fsync(fd)

    def replace(src, dst):
        events.append(('replace', Path(dst).name))
        real_replace(src, dst)

    monkeypatch.setattr(os, 'fsync', fsync)
    monkeypatch.setattr(os, 'replace', replace)
    save_state(tmp_path / 'mission.json', MissionState(3.0, False))
    assert events == [('fsync', False), ('replace', 'mission.json'), ('fsync', True)]
    events.clear()
    save_state(tmp_path / 'mission.json', MissionState(3.0, False))
    assert events == []  # unchanged: not written again


# -- mission_node ------------------------------------------------------------------------------


@pytest.mark.parametrize('name', sorted(DAMAGED))
def test_mission_node_starts_from_the_beginning_on_a_damaged_state(ros, tmp_path, name):
    path = tmp_path / 'mission.json'
    path.write_bytes(damaged(name))
    node = make_node(ros, state_file=str(path))
    assert node.mission.progress_m == 0.0 and node.mission.complete is False
    errors = [text for level, text in node.get_logger().records if level == 'ERROR']
    assert len(errors) == 1 and str(path) in errors[0] and 'kept aside' in errors[0]
    (kept,) = aside(tmp_path)
    assert kept.read_bytes() == damaged(name)
    node.mission.progress_m = 7.5
    node.save()
    assert json.loads(path.read_text()) == {
        'progress_m': 7.5,
        'complete': False,
        'skipped': [],
        'skips': 0,
    }
    assert kept.read_bytes() == damaged(name)
    node.destroy_node()


def test_mission_node_restores_a_good_state(ros, tmp_path):
    path = save_state(tmp_path / 'mission.json', MissionState(42.125, True))
    node = make_node(ros, state_file=str(path))
    assert (node.mission.progress_m, node.mission.complete) == (42.125, True)
    assert not [r for r in node.get_logger().records if r[0] == 'ERROR']
    node.destroy_node()


def test_mission_node_keeps_the_skipped_stretches_across_a_restart(ros, tmp_path):
    path = tmp_path / 'mission.json'
    node = make_node(ros, state_file=str(path))
    m = node.mission
    m.set_plan(np.array([[1.0, 1.0], [9.0, 1.0], [9.0, 2.0], [1.0, 2.0]]))
    m.progress_m = 3.0
    assert m.skip_blocked() and m.skip_blocked()  # blocked twice at the same stretch: it grew
    skipped, skips = list(m.skipped), m.skips
    assert len(skipped) == 1 and skips == 2
    node.save()
    node.destroy_node()
    node = make_node(ros, state_file=str(path))
    m = node.mission
    assert (m.progress_m, m.skipped, m.skips) == (3.0, skipped, skips)
    infos = [text for level, text in node.get_logger().records if level == 'INFO']
    assert any('1 skipped stretch(es)' in text for text in infos)
    m.set_plan(np.array([[1.0, 1.0], [9.0, 1.0], [9.0, 2.0], [1.0, 2.0]]))
    (x, y, r), s = skipped[0], m.resume_point()
    assert math.hypot(*(m.point_at(np.array([s]))[0] - (x, y))) > r  # not back into it
    assert m.finish_mowing() == 'RETURNING'
    assert f'({x:.1f}, {y:.1f})' in m.message  # and named when the run completes
    node.destroy_node()


@pytest.mark.parametrize('progress', [math.nan, math.inf, 1e308])
def test_mission_node_never_saves_an_invalid_state(ros, tmp_path, progress):
    path = tmp_path / 'mission.json'
    node = make_node(ros, state_file=str(path))
    node.mission.progress_m = 12.0
    node.save()
    node.mission.progress_m = progress
    node.save()  # logged, the last good state stays
    errors = [text for level, text in node.get_logger().records if level == 'ERROR']
    assert len(errors) == 1 and 'cannot save the mission state' in errors[0]
    assert read_state(path) == MissionState(12.0, False)
    node.destroy_node()


# -- fuzz ----------------------------------------------------------------------------------------

GOOD = json.dumps({'progress_m': 12.5, 'complete': False}).encode()
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.integers()
    | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
states = st.fixed_dictionaries(
    {'progress_m': json_values, 'complete': json_values}, optional={'extra': json_values}
)
contents = st.one_of(
    st.binary(max_size=200),
    json_values.map(lambda v: json.dumps(v).encode()),
    states.map(lambda v: json.dumps(v).encode()),
    st.integers(0, len(GOOD) - 1).map(lambda n: GOOD[:n]),
    st.lists(st.integers(0, 8 * len(GOOD) - 1), min_size=1, max_size=4).map(
        lambda bits: _flip_all(GOOD, bits)
    ),
)


def _flip_all(data: bytes, bits: list[int]) -> bytes:
    out = bytearray(data)
    for bit in bits:
        out[bit // 8] ^= 1 << (bit % 8)
    return bytes(out)


@settings(max_examples=150)
@given(data=contents)
def test_fuzz_mission_state_files_only_ever_load_or_are_kept_aside(data):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / 'mission.json'
        path.write_bytes(data)
        try:
            read = read_state(path)
        except MissionStateError as exc:
            read = None
            assert str(path) in str(exc) and '\n' not in str(exc)
        assert path.read_bytes() == data and os.listdir(tmp) == ['mission.json']
        state, message = load_state(path)
        files = os.listdir(tmp)
        if read is None:
            assert state is None and str(path) in message
            assert len(files) == 1 and files[0].startswith('mission.json.damaged-')
            assert (Path(tmp) / files[0]).read_bytes() == data
        else:
            assert state == read and files == ['mission.json'] and path.read_bytes() == data
            assert 0.0 <= state.progress_m <= 1e6 and isinstance(state.complete, bool)
            save_state(path, state)  # what was read is saved back as it was read
            assert read_state(path) == state
