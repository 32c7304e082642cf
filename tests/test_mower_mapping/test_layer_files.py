"""Damaged or foreign mowed-layer files: kept aside, logged, never fatal; saves are durable."""

from __future__ import annotations

import io
import math
import os
import tempfile
from pathlib import Path

import numpy as np
import pytest
import yaml
from conftest import ROOT
from hypothesis import given, settings
from hypothesis import strategies as st

from mower_mapping.coverage_layer import (
    CoverageLayer,
    LayerFileError,
    restore_layer,
)

CONFIG = ROOT / 'config' / 'mapping.yaml'
ORIGIN, SIZE, RES, CUT = (-5.0, -5.0), (30.0, 30.0), 0.02, 0.22  # config/mapping.yaml's grid


def make_node(ros, **changes):
    from rclpy.parameter import Parameter

    from mower_mapping.mapping_node import MappingNode

    values = yaml.safe_load(CONFIG.read_text())['/**/mapping_node']['ros__parameters']
    values.update(changes)
    return MappingNode(parameter_overrides=[Parameter(k, value=v) for k, v in values.items()])


def mowed_layer(origin=ORIGIN, size=SIZE, res=RES) -> CoverageLayer:
    """A layer with a mowed stripe from (0, 2) to (6, 2)."""
    layer = CoverageLayer(origin, size[0], size[1], res, CUT)
    for x in np.linspace(0.0, 6.0, 121):
        layer.update(float(x), 2.0, True)
    return layer


def npz(**fields) -> bytes:
    """A coverage-layer archive from the layer of :func:`mowed_layer`, fields replaced."""
    layer = mowed_layer()
    values = {
        'mowed': np.packbits(layer.mowed),
        'shape': np.asarray(layer.shape),
        'origin': layer.origin,
        'res': np.float64(layer.res),
        'cut': np.float64(layer.cut_width_m),
    }
    values.update(fields)
    buf = io.BytesIO()
    np.savez_compressed(buf, **{k: v for k, v in values.items() if v is not None})
    return buf.getvalue()


def good_bytes() -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        return mowed_layer().save(Path(tmp) / 'coverage.npz').read_bytes()


def flipped(data: bytes, bit: int) -> bytes:
    out = bytearray(data)
    out[bit // 8] ^= 1 << (bit % 8)
    return bytes(out)


DAMAGED = {
    'zero bytes': lambda: b'',
    'truncated': lambda: good_bytes()[: len(good_bytes()) // 2],
    'bit-flipped': lambda: flipped(good_bytes(), 8 * 200 + 3),  # in the packed cells
    'res=0': lambda: npz(res=np.float64(0.0)),
    'res=-0.02': lambda: npz(res=np.float64(-0.02)),
    'shape 0x0': lambda: npz(shape=np.array([0, 0])),
    'shape 10x10 for 1500x1500 cells': lambda: npz(shape=np.array([10, 10])),
    'NaN origin': lambda: npz(origin=np.array([math.nan, -5.0])),
    'cut width Infinity': lambda: npz(cut=np.float64(math.inf)),
    'no mowed array': lambda: npz(mowed=None),
    'not an archive': lambda: b'PK\x03\x04 but then nothing of a zip',
}


def damaged(name: str) -> bytes:
    return DAMAGED[name]()


def aside(folder: Path, tag: str = 'damaged') -> list[Path]:
    return sorted(folder.glob(f'coverage.npz.{tag}-*'))


# -- the core ----------------------------------------------------------------------------------


@pytest.mark.parametrize('name', sorted(DAMAGED))
def test_load_raises_one_error_type_naming_the_file(tmp_path, name):
    path = tmp_path / 'coverage.npz'
    data = damaged(name)
    path.write_bytes(data)
    with pytest.raises(LayerFileError, match=str(path)) as caught:
        CoverageLayer.load(path)
    assert '\n' not in str(caught.value)
    assert path.read_bytes() == data  # only read


@pytest.mark.parametrize('name', sorted(DAMAGED))
def test_restore_keeps_a_damaged_file_aside_and_starts_empty(tmp_path, name):
    path = tmp_path / 'coverage.npz'
    data = damaged(name)
    path.write_bytes(data)
    layer, message, level = restore_layer(path, ORIGIN, SIZE, RES, CUT)
    assert layer is None and level == 'error'
    (kept,) = aside(tmp_path)
    assert kept.read_bytes() == data and not path.exists()
    assert str(path) in message and str(kept) in message and '\n' not in message


def test_a_good_layer_round_trips_exactly(tmp_path):
    layer = mowed_layer((-2.5, 1.25), (7.3, 4.1))
    again = CoverageLayer.load(layer.save(tmp_path / 'deep' / 'coverage.npz'))
    assert np.array_equal(again.mowed, layer.mowed) and again.shape == layer.shape
    assert again.origin.tolist() == layer.origin.tolist()
    assert (again.res, again.cut_width_m) == (layer.res, layer.cut_width_m)
    assert again.mowed_area_m2() == layer.mowed_area_m2() > 1.0
    assert sorted(p.name for p in (tmp_path / 'deep').iterdir()) == ['coverage.npz']


def test_restore_on_the_same_grid_is_exact(tmp_path):
    layer = mowed_layer()
    path = layer.save(tmp_path / 'coverage.npz')
    data = path.read_bytes()
    restored, message, level = restore_layer(path, ORIGIN, SIZE, RES, CUT)
    assert np.array_equal(restored.mowed, layer.mowed) and level == 'info'
    assert 'already mowed' in message and str(path) in message
    assert path.read_bytes() == data and list(tmp_path.iterdir()) == [path]


def test_a_layer_saved_on_a_smaller_grid_is_copied_into_the_configured_one(tmp_path):
    """The map's extent grew: what was mowed stays where it was, on the configured grid."""
    small = mowed_layer((-2.0, -2.0), (19.0, 14.0))  # demo lawn + 2 m, cell-aligned with ORIGIN
    path = small.save(tmp_path / 'coverage.npz')
    layer, message, level = restore_layer(path, ORIGIN, SIZE, RES, 0.3)
    assert level == 'warning' and 'configured grid' in message and str(path) in message
    assert layer.shape == (1500, 1500) and layer.cut_width_m == 0.3
    assert np.array_equal(layer.mowed[150:850, 150:1100], small.mowed)
    assert layer.mowed.sum() == small.mowed.sum()
    assert list(tmp_path.iterdir()) == [path]  # nothing dropped: no copy needed


def test_mowed_cells_outside_the_configured_grid_keep_a_copy_of_the_file(tmp_path):
    big = mowed_layer()
    path = big.save(tmp_path / 'coverage.npz')
    data = path.read_bytes()
    layer, message, level = restore_layer(path, (3.0, -5.0), (10.0, 30.0), RES, CUT)
    assert level == 'warning' and 'dropped' in message
    (copy,) = aside(tmp_path, 'other-grid')
    assert copy.read_bytes() == data == path.read_bytes() and str(copy) in message
    assert layer.shape == (1500, 500)
    assert np.array_equal(layer.mowed, big.mowed[:, 400:900])
    assert 0 < layer.mowed.sum() < big.mowed.sum()


def test_a_layer_of_another_resolution_is_kept_aside(tmp_path):
    path = mowed_layer(res=0.05).save(tmp_path / 'coverage.npz')
    data = path.read_bytes()
    layer, message, level = restore_layer(path, ORIGIN, SIZE, RES, CUT)
    assert layer is None and level == 'error' and 'coverage_resolution_m' in message
    (kept,) = aside(tmp_path, 'other-grid')
    assert kept.read_bytes() == data and not path.exists()


def test_no_file_is_an_empty_start(tmp_path):
    assert restore_layer('', ORIGIN, SIZE, RES, CUT) == (None, '', 'info')
    layer, message, level = restore_layer(tmp_path / 'none.npz', ORIGIN, SIZE, RES, CUT)
    assert layer is None and level == 'info' and list(tmp_path.iterdir()) == []


def test_save_fsyncs_the_file_before_the_rename_and_the_folder_after(tmp_path, monkeypatch):
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
    mowed_layer().save(tmp_path / 'coverage.npz')
    assert events == [('fsync', False), ('replace', 'coverage.npz'), ('fsync', True)]


def test_a_failed_save_leaves_the_old_file_and_no_temporary_one(tmp_path, monkeypatch):
    path = mowed_layer().save(tmp_path / 'coverage.npz')
    data = path.read_bytes()

    def replace(src, dst):
        raise OSError(28, 'No space left on device')

    monkeypatch.setattr(os, 'replace', replace)
    with pytest.raises(OSError):
        CoverageLayer(ORIGIN, 1.0, 1.0).save(path)
    assert path.read_bytes() == data and list(tmp_path.iterdir()) == [path]


# -- mapping_node ------------------------------------------------------------------------------


@pytest.mark.parametrize('name', sorted(DAMAGED))
def test_mapping_node_starts_empty_on_a_damaged_layer_and_keeps_it(ros, tmp_path, name):
    path = tmp_path / 'coverage.npz'
    data = damaged(name)
    path.write_bytes(data)
    node = make_node(ros, coverage_file=str(path))  # must not raise
    assert node.coverage.shape == (1500, 1500) and not node.coverage.mowed.any()
    errors = [text for level, text in node.get_logger().records if level == 'ERROR']
    assert len(errors) == 1 and str(path) in errors[0] and 'kept aside' in errors[0]
    (kept,) = aside(tmp_path)
    assert kept.read_bytes() == data
    node.coverage.update(1.0, 1.0, True)
    node.save()  # a valid file, the damaged one still kept
    again = CoverageLayer.load(path)
    assert again.shape == (1500, 1500) and again.mowed.any() and kept.read_bytes() == data
    node.destroy_node()


def test_mapping_node_restores_a_good_layer(ros, tmp_path):
    layer = mowed_layer()
    path = layer.save(tmp_path / 'coverage.npz')
    node = make_node(ros, coverage_file=str(path))
    assert np.array_equal(node.coverage.mowed, layer.mowed)
    records = node.get_logger().records
    assert (
        'INFO',
        f'coverage restored from {path}: {layer.mowed_area_m2():.1f} m² already mowed',
    ) in records
    assert not [r for r in records if r[0] == 'ERROR']
    node.destroy_node()


def test_mapping_node_keeps_a_layer_of_another_resolution_aside(ros, tmp_path):
    path = mowed_layer(res=0.05).save(tmp_path / 'coverage.npz')
    data = path.read_bytes()
    node = make_node(ros, coverage_file=str(path))
    assert not node.coverage.mowed.any() and node.coverage.res == RES
    errors = [text for level, text in node.get_logger().records if level == 'ERROR']
    assert len(errors) == 1 and str(path) in errors[0]
    (kept,) = aside(tmp_path, 'other-grid')
    assert kept.read_bytes() == data
    node.destroy_node()


# -- fuzz ----------------------------------------------------------------------------------------

SMALL = mowed_layer((0.0, 1.0), (1.0, 1.0))  # 50 x 50 cells: a short archive to mutate


def _small_bytes() -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        return SMALL.save(Path(tmp) / 'coverage.npz').read_bytes()


SMALL_BYTES = _small_bytes()

numbers = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-(2**40), 2**40))
arrays = st.one_of(
    st.builds(np.array, st.lists(numbers, max_size=4)),
    st.builds(np.float64, st.floats(allow_nan=True, allow_infinity=True)),
    st.builds(lambda n: np.zeros(n, dtype=np.uint8), st.integers(0, 400)),
    st.just(np.array(['text'])),
    st.just(np.zeros((2, 2))),
)
archives = st.builds(
    lambda fields: npz(**fields),
    st.dictionaries(st.sampled_from(['mowed', 'shape', 'origin', 'res', 'cut']), arrays),
)
mutations = st.one_of(
    st.binary(max_size=600),
    st.integers(0, len(SMALL_BYTES) - 1).map(lambda n: SMALL_BYTES[:n]),
    st.lists(st.integers(0, 8 * len(SMALL_BYTES) - 1), min_size=1, max_size=6).map(
        lambda bits: _flip_all(SMALL_BYTES, bits)
    ),
    archives,
)


def _flip_all(data: bytes, bits: list[int]) -> bytes:
    for bit in bits:
        data = flipped(data, bit)
    return data


@settings(max_examples=120)
@given(data=mutations)
def test_fuzz_layer_files_only_ever_load_or_are_kept_aside(data):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / 'coverage.npz'
        path.write_bytes(data)
        try:
            loaded = CoverageLayer.load(path)
        except LayerFileError as exc:
            loaded = None
            assert str(path) in str(exc) and '\n' not in str(exc)
        assert path.read_bytes() == data and os.listdir(tmp) == ['coverage.npz']
        layer, message, level = restore_layer(path, (0.0, 1.0), (1.0, 1.0), RES, CUT)
        files = sorted(os.listdir(tmp))
        if loaded is None or layer is None:
            assert layer is None and level == 'error' and str(path) in message
            assert len(files) == 1 and files[0].startswith('coverage.npz.')
            assert (Path(tmp) / files[0]).read_bytes() == data  # moved aside, unchanged
        else:
            assert files == ['coverage.npz'] or files[1].startswith('coverage.npz.other-grid-')
            assert path.read_bytes() == data and layer.shape == (50, 50)
            assert layer.mowed.sum() <= loaded.mowed.sum()
