"""The command line as a hostile user meets it (issue 16).

Outputs never replace inputs, one run per output folder, a signal leaves what was done so far,
bad values are one line: exit status 2 (usage) or 1 (input), never a traceback.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import pytest
from bag_msgs import compressed_jpeg, odometry
from conftest import MAPS
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st
from rosbags.highlevel import AnyReader
from test_mower_offline.test_replay import _image, make_bag

from mower_cli.main import main
from mower_offline.bag import TYPESTORE, BagRecorder, ros_msg

MOWER = [sys.executable, '-m', 'mower_cli.main']
SMALL_MAP = MAPS / 'l_shaped_lawn.geojson'


def run_cli(argv: list[str], capsys) -> tuple[int, str, str]:
    """``mower ARGV`` in this process: (exit status, stdout, stderr)."""
    try:
        rc = main([str(a) for a in argv])
    except SystemExit as exc:  # argparse: usage errors
        rc = exc.code if isinstance(exc.code, int) else 1
    out, err = capsys.readouterr()
    return rc, out, err


def one_line(err: str) -> str:
    """The single error line of ``err`` (no traceback, nothing else)."""
    assert 'Traceback' not in err, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    return lines[0]


def usage_error(err: str) -> str:
    """The error line after argparse's usage block (it names the option)."""
    assert 'Traceback' not in err, err
    return err.strip().splitlines()[-1]


def digests(root: Path) -> dict[str, tuple[int, str]]:
    """Every file under ``root``: (mtime ns, sha256)."""
    return {
        str(p.relative_to(root)): (
            p.stat().st_mtime_ns,
            hashlib.sha256(p.read_bytes()).hexdigest(),
        )
        for p in sorted(root.rglob('*'))
        if p.is_file() and not p.is_symlink()
    }


def odom_bag(path: Path, xs: list[float]) -> Path:
    """Odometry along x at 20 Hz (positions ``xs``) and a 10 Hz camera."""
    ok, jpeg = cv2.imencode('.jpg', cv2.cvtColor(_image(), cv2.COLOR_RGB2BGR))
    with BagRecorder(path) as bag:
        for i, x in enumerate(xs):
            t = 1.0 + i * 0.05
            bag.write(
                '/odom',
                'nav_msgs/msg/Odometry',
                t,
                odometry(t, x),
            )
        for i in range(len(xs) // 2):
            t = 1.05 + i * 0.1
            bag.write(
                '/camera/image_raw/compressed',
                'sensor_msgs/msg/CompressedImage',
                t,
                compressed_jpeg(t, jpeg.tobytes()),
            )
    return path


def counts(bag: Path) -> dict[str, int]:
    """Messages per topic, read with rosbags (so the bag is readable)."""
    with AnyReader([bag], default_typestore=TYPESTORE) as r:
        out: dict[str, int] = {}
        for c in r.connections:
            out[c.topic] = out.get(c.topic, 0) + c.msgcount
    return out


# -- 1: outputs never replace inputs ----------------------------------------------------------


def test_replay_into_the_folder_holding_its_input_is_refused_and_the_input_kept(
    tmp_path, capsys, monkeypatch
):
    run = tmp_path / 'run'
    bag = make_bag(run / 'bag')
    before = digests(tmp_path)
    rc, _, err = run_cli(['replay', bag, '--out', run, '--json'], capsys)
    assert rc == 1 and str(run) in one_line(err) and 'contain the input' in err
    assert digests(tmp_path) == before
    # the defaults: out/sim/bag replays into out/replay/bag, which then replays into itself
    monkeypatch.chdir(tmp_path)
    make_bag(Path('out/replay/bag'))
    before = digests(tmp_path)
    rc, _, err = run_cli(['replay', 'out/replay/bag', '--json'], capsys)
    assert rc == 1 and 'out/replay/bag' in one_line(err)
    assert digests(tmp_path) == before


def test_an_output_inside_the_input_or_naming_a_file_is_refused(tmp_path, capsys):
    bag = make_bag(tmp_path / 'bag')
    before = digests(tmp_path)
    rc, _, err = run_cli(['replay', bag, '--out', bag / 'sub', '--json'], capsys)
    assert rc == 1 and 'inside the input' in one_line(err)
    rc, _, err = run_cli(['replay', bag, '--out', bag / 'metadata.yaml', '--json'], capsys)
    assert rc == 1 and 'is a file' in one_line(err)
    rc, _, err = run_cli(['sim', SMALL_MAP, '--out', bag / 'metadata.yaml', '--no-bag'], capsys)
    assert rc == 1 and 'is a file' in one_line(err)
    rc, _, err = run_cli(['replay', tmp_path / 'nothing', '--out', tmp_path / 'o'], capsys)
    assert rc == 1 and 'no such file' in one_line(err)
    rc, _, err = run_cli(
        ['replay', bag, '--out', tmp_path / 'o', '--extract-frames', bag / 'frames'], capsys
    )
    assert rc == 1 and '--extract-frames' in one_line(err)
    lawn = shutil.copy(SMALL_MAP, tmp_path / 'lawn.geojson')
    before = digests(tmp_path)
    rc, _, err = run_cli(['sim', lawn, '--out', tmp_path, '--no-bag'], capsys)
    assert rc == 1 and 'contain the input' in one_line(err)
    assert digests(tmp_path) == before and not (tmp_path / 'o').exists()


def test_the_recorder_replaces_only_a_bag(tmp_path):
    keep = tmp_path / 'bag'
    keep.mkdir()
    (keep / 'notes.txt').write_text('mine')
    with pytest.raises(FileExistsError, match='not a rosbag2 folder'):
        BagRecorder(keep)
    assert (keep / 'notes.txt').read_text() == 'mine'
    make_bag(tmp_path / 'old', frames=1)
    with BagRecorder(tmp_path / 'old') as bag:  # an earlier recording: replaced
        bag.write('/x', 'std_msgs/msg/Bool', 1.0, ros_msg('std_msgs/msg/Bool', data=True))
    assert counts(tmp_path / 'old') == {'/x': 1}


# -- 5: one run per output folder --------------------------------------------------------------


def test_a_second_run_into_a_held_output_folder_is_refused(tmp_path, capsys):
    from mower_offline.out_dir import OutputError, claim_output

    bag = make_bag(tmp_path / 'in')
    out = tmp_path / 'out'
    with claim_output(out, [bag]):  # another run holds it
        rc, _, err = run_cli(['replay', bag, '--out', out, '--json'], capsys)
        assert rc == 1 and str(out) in one_line(err) and 'another run' in err
        rc, _, err = run_cli(['sim', SMALL_MAP, '--out', out, '--no-bag', '--json'], capsys)
        assert rc == 1 and str(out) in one_line(err) and 'another run' in err
        for command in ('discover', 'teach'):  # (refused before the simulator starts)
            rc, _, err = run_cli([command, SMALL_MAP, '--out', out, '--json'], capsys)
            assert rc == 1 and str(out) in one_line(err) and 'another run' in err
        with pytest.raises(OutputError, match='another run'):
            claim_output(out)
    assert not (out / 'summary.json').exists() and not (out / 'report.json').exists()
    rc, out_text, err = run_cli(['replay', bag, '--out', out, '--json', '--no-video'], capsys)
    assert rc == 0, err
    assert json.loads(out_text)['frames_processed'] == 12


def test_a_folder_made_for_a_run_that_failed_at_once_is_removed_again(tmp_path, capsys):
    text = tmp_path / 'notes.txt'
    text.write_text('not a bag')
    rc, _, err = run_cli(['replay', text, '--out', tmp_path / 'new' / 'out'], capsys)
    assert rc == 1 and 'not a readable' in one_line(err)
    assert not (tmp_path / 'new' / 'out').exists()


# -- 6: a signal leaves what was done so far ----------------------------------------------------


def test_a_first_signal_asks_to_stop_and_a_second_stops_at_once():
    from mower_offline.out_dir import Interrupted, stop_on_signals

    before = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
    with stop_on_signals() as stop:
        assert not stop and stop.exit_status == 0
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(0.05)
        assert stop and stop.name == 'SIGTERM' and stop.exit_status == 143
        with pytest.raises(Interrupted):
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(1.0)
    assert (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)) == before


@pytest.fixture(scope='module')
def long_bag(tmp_path_factory) -> Path:
    """A camera bag that takes several seconds to replay."""
    return make_bag(tmp_path_factory.mktemp('long') / 'bag', frames=1000)


def _signal_when(
    args: list[str], started: bytes, signum: int, delay_s: float = 0.3
) -> tuple[int, str]:
    """Run ``mower ARGS``; send ``signum`` once stderr shows ``started``; (status, stderr)."""
    proc = subprocess.Popen(MOWER + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    seen = b''
    deadline = time.monotonic() + 120
    while started not in seen and time.monotonic() < deadline:
        chunk = os.read(proc.stderr.fileno(), 4096)
        if not chunk:
            break
        seen += chunk
    assert started in seen, seen.decode(errors='replace')
    time.sleep(delay_s)
    proc.send_signal(signum)
    _, rest = proc.communicate(timeout=120)
    return proc.returncode, (seen + rest).decode(errors='replace')


@pytest.mark.parametrize('signum, status', [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_during_a_replay_writes_an_interrupted_summary(
    long_bag, tmp_path, capsys, signum, status
):
    out = tmp_path / 'out'
    proc = subprocess.Popen(
        MOWER + ['replay', str(long_bag), '--out', str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    seen = b''
    while b'replaying' not in seen:
        chunk = os.read(proc.stderr.fileno(), 4096)
        assert chunk, seen
        seen += chunk
    # while it runs, a second run into its folder is refused
    rc, _, err = run_cli(['replay', long_bag, '--out', out, '--json'], capsys)
    assert rc == 1 and 'another run' in one_line(err)
    time.sleep(0.3)
    proc.send_signal(signum)
    _, rest = proc.communicate(timeout=120)
    err = (seen + rest).decode(errors='replace')
    assert proc.returncode == status, err
    assert 'Traceback' not in err and f'interrupted by {signal.Signals(signum).name}' in err
    s = json.loads((out / 'summary.json').read_text())
    assert s['interrupted'] is True and s['signal'] == signal.Signals(signum).name
    assert s['frames_processed'] < 1000
    assert counts(out / 'bag')['/replay/labels'] == s['frames_processed']
    assert (out / 'map.png').stat().st_size > 0


@pytest.mark.slow
def test_a_signal_during_a_sim_run_writes_an_interrupted_report(tmp_path):
    out = tmp_path / 'out'
    rc, err = _signal_when(
        ['sim', str(SMALL_MAP), '--out', str(out)], b'mowing', signal.SIGTERM, delay_s=1.0
    )
    assert rc == 143 and 'Traceback' not in err, err
    s = json.loads((out / 'report.json').read_text())
    assert s['interrupted'] is True and s['signal'] == 'SIGTERM'
    assert s['final_state'] != 'IDLE'
    assert (out / 'report.png').stat().st_size > 0 and counts(out / 'bag')


# -- 11: damaged poses and an earlier replay's topics ---------------------------------------------


def test_nan_and_infinite_odometry_is_reported_and_skipped(tmp_path, capsys):
    xs = [0.02 * i for i in range(26)]
    xs[7], xs[15] = math.nan, math.inf
    bag = odom_bag(tmp_path / 'bag', xs)
    rc, out, err = run_cli(['replay', bag, '--out', tmp_path / 'out', '--json'], capsys)
    assert rc == 0, err
    s = json.loads(out)
    assert s['poses'] == 24 and s['distance_m'] == pytest.approx(0.5, abs=1e-6)
    bad = [p for p in s['problems'] if 'not finite' in p['what']]
    assert len(bad) == 1 and bad[0]['topic'] == '/odom' and bad[0]['count'] == 2
    assert s['frames_processed'] == 13 and s['area_mapped_m2'] > 1.0


def test_a_jump_of_2e7_m_is_reported_and_skipped(tmp_path, capsys):
    xs = [0.02 * i for i in range(26)]
    xs[10] = 2e7
    bag = odom_bag(tmp_path / 'bag', xs)
    rc, out, err = run_cli(['replay', bag, '--out', tmp_path / 'out', '--json'], capsys)
    assert rc == 0, err
    s = json.loads(out)
    assert s['poses'] == 25 and s['distance_m'] == pytest.approx(0.5, abs=1e-6)
    assert any('jump' in p['what'] and p['topic'] == '/odom' for p in s['problems'])
    assert s['area_swept_m2'] < 10 and s['frames_processed'] == 13


def test_implausible_poses_first_middle_and_a_real_drive():
    from mower_offline.pose_timeline import implausible

    t = np.arange(10) * 0.1
    xy = np.column_stack([t * 0.5, np.zeros(10)])
    assert not implausible(t, xy, 50.0).any()  # a mower at 0.5 m/s
    wild = xy.copy()
    wild[0] = (2e7, 0.0)
    wild[5] = (0.0, -3e6)
    assert implausible(t, wild, 50.0).tolist() == [True] + [False] * 4 + [True] + [False] * 4
    car = np.column_stack([t * 30.0, np.zeros(10)])  # 30 m/s: fast, but it drives
    assert not implausible(t, car, 50.0).any()


def test_a_bag_that_already_has_replay_topics_replays(tmp_path, capsys):
    first = tmp_path / 'first'
    rc, _, err = run_cli(
        ['replay', make_bag(tmp_path / 'in'), '--out', first, '--json', '--no-video'], capsys
    )
    assert rc == 0, err
    assert counts(first / 'bag')['/replay/labels'] == 12
    rc, out, err = run_cli(
        ['replay', first / 'bag', '--out', tmp_path / 'second', '--json', '--no-video'], capsys
    )
    assert rc == 0, err
    s = json.loads(out)
    assert s['frames_processed'] == 12
    assert any("earlier replay's output" in p['what'] for p in s['problems'])
    again = counts(tmp_path / 'second' / 'bag')
    assert again['/replay/labels'] == 12 and again['/camera/image_raw/compressed'] == 12


# -- 13: bad values: exit 2 (usage) or 1 (input), one line, never a traceback ---------------

SHIFT_BIAS = ['segment', 'shift-bias', '--calib', 'c', '--models', 'o']


@pytest.mark.parametrize(
    'args, option',
    [
        (['sim', '--limit-s', '0'], '--limit-s'),
        (['sim', '--limit-s', '-5'], '--limit-s'),
        (['sim', '--limit-s', 'nan'], '--limit-s'),
        (['sim', '--limit-s', 'inf'], '--limit-s'),
        (['sim', '--camera-hz', '0'], '--camera-hz'),
        (['sim', '--camera-hz', 'nan'], '--camera-hz'),
        (['sim', '--seed', '-1'], '--seed'),
        (['sim', '--hidden', '-1'], '--hidden'),
        (['sim', '--drive-test', '--distance', 'nan'], '--distance'),
        (['replay', 'x.mcap', '--threads', '0'], '--threads'),
        (['replay', 'x.mcap', '--limit-frames', '0'], '--limit-frames'),
        (['replay', 'x.mcap', '--unsure', 'nan'], '--unsure'),
        (['replay', 'x.mcap', '--every', '-1'], '--every'),
        (['map', 'import', 'f.wkt', '--out', 'o.geojson', '--area', 'nan'], '--area'),
        (['map', 'import', 'f.wkt', '--out', 'o.geojson', '--area', '-5'], '--area'),
        (['map', 'import', 'f.wkt', '--out', 'o.geojson', '--area', '0'], '--area'),
        (['discover', 'm.geojson', '--limit-s', 'nan'], '--limit-s'),
        (['discover', 'm.geojson', '--limit-s', '0'], '--limit-s'),
        (['discover', 'm.geojson', '--camera-hz', '-1'], '--camera-hz'),
        (['discover', 'm.geojson', '--camera-hz', 'inf'], '--camera-hz'),
        (['discover', 'm.geojson', '--hidden', '-1'], '--hidden'),
        (['discover', 'm.geojson', '--seed', '-1'], '--seed'),
        (['teach', 'm.geojson', '--speed', '0'], '--speed'),
        (['teach', 'm.geojson', '--speed', 'nan'], '--speed'),
        (['teach', 'm.geojson', '--seed', '1e3'], '--seed'),
        (['segment', 'adapt', 'f', '--out', 'o', '--threads', '0'], '--threads'),
        (['segment', 'adapt', 'f', '--out', 'o', '--epochs', '0'], '--epochs'),
        (['segment', 'adapt', 'f', '--out', 'o', '--minutes', 'nan'], '--minutes'),
        (['segment', 'adapt', 'f', '--out', 'o', '--holdout', '1.5'], '--holdout'),
        (['segment', 'adapt', 'f', '--out', 'o', '--every', '0'], '--every'),
        (['segment', 'adapt-proof', '--epochs', '-3'], '--epochs'),
        (['segment', 'adapt-proof', '--minutes', '0'], '--minutes'),
        (['segment', 'adapt-proof', '--threads', '0'], '--threads'),
        (['segment', 'adapt-proof', '--rounds', '0'], '--rounds'),
        (['segment', 'adapt-proof', '--seed', '-1'], '--seed'),
        (['segment', 'adapt', 'f', '--out', 'o', '--rounds', '9'], '--rounds'),
        (['segment', 'adapt', 'f', '--out', 'o', '--seed', 'x'], '--seed'),
        (['segment', 'adapt', 'f', '--out', 'o', '--soft-weight', '1.5'], '--soft-weight'),
        (['segment', 'adapt-proof', '--soft-weight', 'nan'], '--soft-weight'),
        (['segment', 'adapt-proof', '--soft-weight', '-0.1'], '--soft-weight'),
        (['segment', 'train', '--threads', '0'], '--threads'),
        (['segment', 'train', '--lr', 'inf'], '--lr'),
        (['segment', 'train', '--batch', '0'], '--batch'),
        (['segment', 'dataset', '--out', 'o', '--frames', '0'], '--frames'),
        (['segment', 'dataset', '--out', 'o', '--garden-share', '2'], '--garden-share'),
        (['segment', 'eval', '--limit', '-1'], '--limit'),
        ([*SHIFT_BIAS, '--by', 'nan'], '--by'),
        ([*SHIFT_BIAS, '--by', '-1', '--frames', '0'], '--frames'),
        (['segment', 'bench', '--frames', '0'], '--frames'),
    ],
)
def test_a_bad_value_is_a_usage_error(args, option, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    rc, out, err = run_cli(args, capsys)
    assert rc == 2 and option in usage_error(err) and out == ''
    assert list(tmp_path.iterdir()) == []  # nothing made, nothing run


def _field_files(tmp_path: Path) -> dict[str, Path]:
    files = {
        'missing': tmp_path / 'missing.wkt',
        'folder': tmp_path,
        'utf16': tmp_path / 'utf16.geojson',
        'null': tmp_path / 'null.geojson',
        'deep': tmp_path / 'deep.geojson',
    }
    files['utf16'].write_bytes('{}'.encode('utf-16'))
    files['null'].write_text(
        '{"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": null}]}'
    )
    files['deep'].write_text('[' * 100_000 + ']' * 100_000)
    return files


@pytest.mark.parametrize(
    'case, words',
    [
        ('missing', 'no such file'),
        ('folder', 'cannot read'),
        ('utf16', 'cannot read'),
        ('null', 'no polygon'),
        ('deep', 'nested too deeply'),
    ],
)
def test_map_import_of_a_bad_file_is_one_line(tmp_path, capsys, case, words):
    src = _field_files(tmp_path)[case]
    rc, _, err = run_cli(['map', 'import', src, '--out', tmp_path / 'lawn.geojson'], capsys)
    assert rc == 1 and words in one_line(err)
    assert not (tmp_path / 'lawn.geojson').exists()


def test_map_import_never_writes_over_its_source_or_into_a_folder(tmp_path, capsys):
    src = tmp_path / 'field.wkt'
    src.write_text('POLYGON((0 0, 20 0, 20 10, 0 10, 0 0))')
    rc, _, err = run_cli(['map', 'import', src, '--out', src], capsys)
    assert rc == 1 and 'source' in one_line(err)
    assert src.read_text().startswith('POLYGON')
    rc, _, err = run_cli(['map', 'import', src, '--out', tmp_path], capsys)
    assert rc == 1 and 'folder' in one_line(err)
    rc, _, err = run_cli(
        ['map', 'import', src, '--out', tmp_path / 'lawn.geojson', '--area', '100'], capsys
    )
    assert rc == 0, err


def test_segment_eval_with_a_bad_model_is_one_line(tmp_path, capsys):
    pytest.importorskip('onnxruntime')
    models = tmp_path / 'models'
    models.mkdir()
    for name in ('lawnnet.onnx', 'lawnnet_int8.onnx'):
        (models / name).write_bytes(b'not a model')
    rc, _, err = run_cli(
        ['segment', 'eval', '--models', models, '--real-only', '--msrc', tmp_path / 'none'], capsys
    )
    assert rc == 1 and 'lawnnet.onnx' in one_line(err)


def test_a_config_error_is_one_line(tmp_path, capsys, monkeypatch):
    import mower_offline.replay
    import mower_offline.run
    from mower_node_kit.params import ConfigError

    def bad(path, node, namespace='/'):
        raise ConfigError('resolution_m', -1.0, 'is outside [0.01, 1.0]', path)

    monkeypatch.setattr(mower_offline.run, 'node_yaml', bad)
    monkeypatch.setattr(mower_offline.replay, 'node_yaml', bad)
    rc, _, err = run_cli(['sim', SMALL_MAP, '--out', tmp_path / 'sim', '--no-bag'], capsys)
    assert rc == 1 and 'resolution_m = -1.0' in one_line(err)
    rc, _, err = run_cli(['replay', make_bag(tmp_path / 'bag'), '--out', tmp_path / 'rp'], capsys)
    assert rc == 1 and 'resolution_m = -1.0' in one_line(err)


# -- the fuzz test: numbers and paths at the command line ------------------------------------

NUMBERS = st.one_of(
    st.sampled_from(['nan', 'inf', '-inf', '0', '-0', '-1', '-5', '1e999', '', 'x', '0x10']),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(-5, 30).map(str),
)
PATHS = ('map', 'bag', 'text', 'binary', 'empty_dir', 'missing', 'under_a_file', 'fresh')


def _option(good: st.SearchStrategy, omit: bool = True) -> st.SearchStrategy:
    """A value for an option: mostly a sensible one, else anything at all, or (``omit``) none.

    Sensible values are likely enough that some runs get through, and do their work.
    """
    kinds = ['good', 'good', 'good', 'bad'] + (['omit'] if omit else [])
    return st.sampled_from(kinds).flatmap(
        lambda kind: good.map(str) if kind == 'good' else NUMBERS if kind == 'bad' else st.none()
    )


OPTIONS = {  # per command: (option, values); a sim always gets a short --limit-s
    'sim': [
        ('--limit-s', _option(st.floats(0.05, 2.0), omit=False)),
        ('--camera-hz', _option(st.floats(0.1, 5.0))),
        ('--seed', _option(st.integers(0, 2**32 - 1))),
        ('--hidden', _option(st.integers(0, 3))),
    ],
    'replay': [
        ('--threads', _option(st.integers(1, 2))),
        ('--limit-frames', _option(st.integers(1, 5))),
        ('--every', _option(st.integers(0, 3))),
        ('--unsure', _option(st.floats(0.0, 1.0))),
    ],
    'map import': [('--area', _option(st.floats(1.0, 1e4)))],
    'plan': [
        ('--spacing', _option(st.floats(0.1, 1.0))),
        ('--turn-radius', _option(st.floats(0.0, 2.0))),
        ('--passes', _option(st.integers(1, 3))),
        ('--cut-width', _option(st.floats(0.1, 0.6))),
    ],
}
FIXED = {
    'sim': ['--no-bag', '--json'],
    'replay': ['--json', '--no-video'],
    'map import': [],
    'plan': ['--json'],
}


@pytest.fixture(scope='module')
def tree(tmp_path_factory) -> Path:
    """The user's files: a map, a bag, a text and a binary file, an empty folder."""
    root = tmp_path_factory.mktemp('fuzz')
    user = root / 'user'
    user.mkdir()
    shutil.copy(SMALL_MAP, user / 'lawn.geojson')
    make_bag(user / 'bag', frames=3)
    (user / 'notes.txt').write_text('not a map\n')
    (user / 'blob.bin').write_bytes(bytes(range(256)))
    (user / 'empty').mkdir()
    return root


def _path(tree: Path, kind: str, n: int) -> Path:
    user = tree / 'user'
    return {
        'map': user / 'lawn.geojson',
        'bag': user / 'bag',
        'text': user / 'notes.txt',
        'binary': user / 'blob.bin',
        'empty_dir': user / 'empty',
        'missing': user / 'missing',
        'under_a_file': user / 'notes.txt' / 'x',
        'fresh': tree / 'outs' / f'o{n}',
    }[kind]


@st.composite
def command_lines(draw) -> tuple[str, str, str, list[str]]:
    """A command, its input and output paths and some of its numeric options."""
    command = draw(st.sampled_from(sorted(OPTIONS)))
    right = {'sim': 'map', 'plan': 'map', 'replay': 'bag', 'map import': 'map'}[command]
    source = draw(st.sampled_from([right, right, *PATHS]))
    out = draw(st.sampled_from(['fresh', 'fresh', *PATHS]))
    options = []
    for flag, values in OPTIONS[command]:
        value = draw(values)
        if value is not None:
            options += [flag, value]
    return command, source, out, options


@settings(
    max_examples=25,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    deadline=None,
)
@given(line=command_lines(), n=st.integers(0, 10**9))
@example(line=('sim', 'map', 'fresh', ['--limit-s', '0.5', '--seed', '7']), n=1)
@example(line=('replay', 'bag', 'fresh', ['--limit-frames', '2', '--unsure', '0.5']), n=2)
@example(line=('replay', 'bag', 'empty_dir', []), n=3)
@example(line=('plan', 'map', 'fresh', ['--spacing', '0.4']), n=4)
@example(line=('map import', 'map', 'fresh', ['--area', '50']), n=5)
def test_fuzz_numbers_and_paths(tree, capsys, line, n):
    command, source, out, options = line
    src, dst = _path(tree, source, n), _path(tree, out, n)
    argv = [*command.split(), str(src), '--out', str(dst), *FIXED[command], *options]
    before = digests(tree)
    rc, _, err = run_cli(argv, capsys)
    event(f'{command}: exit status {rc}')
    assert rc in (0, 1, 2), (argv, rc, err)
    assert 'Traceback' not in err, (argv, err)
    named = str(dst.relative_to(tree))
    after = digests(tree)
    changed = {k for k in set(before) | set(after) if before.get(k) != after.get(k)}
    assert all(k == named or k.startswith(named + os.sep) for k in changed), (argv, changed)
    shutil.rmtree(tree / 'outs', ignore_errors=True)
