"""``mower segment eval --real-only``: tables, teacher row or skip, sheet, bad models."""

from __future__ import annotations

import json
import math
import shutil
import sys
from pathlib import Path

import cv2
import pytest
from conftest import ROOT, SHARED_DATA
from tiny_models import channel_model

from mower_cli.main import main

MSRC = SHARED_DATA / 'msrc21-grass'
RELLIS = SHARED_DATA / 'rellis3d-example'
TEACHER = SHARED_DATA / 'ade20k-deeplab' / 'deeplabv3_mnv2_ade20k_int8.tflite'
MODELS = ROOT / 'models'
STEMS = ('10_26_s', '12_11_s', '12_19_s')
pytestmark = pytest.mark.skipif(
    not (MSRC.is_dir() and RELLIS.is_dir()), reason='../shared/data (MSRC-21, RELLIS-3D) absent'
)


@pytest.fixture
def msrc3(tmp_path) -> Path:
    """Three MSRC-21 photos in the dataset's layout, in a temporary folder."""
    folder = tmp_path / 'msrc'
    for sub, suffix in (('images', ''), ('labels', '_GT')):
        (folder / sub).mkdir(parents=True)
        for stem in STEMS:
            shutil.copy(MSRC / sub / f'{stem}{suffix}.png', folder / sub)
    return folder


def run_eval(*extra: str, models: Path = MODELS, msrc: Path | None = None) -> int:
    args = ['segment', 'eval', '--real-only', '--models', str(models), '--rellis', str(RELLIS)]
    if msrc is not None:
        args += ['--msrc', str(msrc)]
    return main(args + list(extra))


def table_row(out: str, section: str, model: str) -> list[str]:
    lines = out.split(f'{section}:', 1)[1].splitlines()
    return next(line.split() for line in lines if line.strip().startswith(model))


def test_eval_real_prints_models_and_teacher_and_writes_the_sheet(tmp_path, msrc3, capsys):
    if not TEACHER.is_file():
        pytest.skip(f'{TEACHER} absent')
    pytest.importorskip('ai_edge_litert')
    sheet, per_frame, report = tmp_path / 'sheet.png', tmp_path / 'pf.json', tmp_path / 'r.json'
    assert (
        run_eval(
            '--teacher',
            str(TEACHER),
            '--contact-sheet',
            str(sheet),
            '--per-frame',
            str(per_frame),
            '--json',
            str(report),
            msrc=msrc3,
        )
        == 0
    )
    captured = capsys.readouterr()
    out = captured.out
    assert captured.err == ''
    assert 'held-out simulated set:' not in out  # --real-only
    assert 'RELLIS-3D: 1 frame(s)' in out and 'MSRC-21: 3 frame(s)' in out
    for section in ('RELLIS-3D', 'MSRC-21'):
        for model in ('float cpu', 'int8 cpu', 'teacher ADE20K'):
            row = table_row(out, section, model)
            # 4 IoU ('-': class absent from truth and prediction), mIoU, mIoU gnd, accuracy, ms
            figures = [float('nan' if v == '-' else v) for v in row[-8:]]
            assert all(0 <= v <= 1 for v in figures[4:7]), row
            assert all(0 <= v <= 1 or math.isnan(v) for v in figures[:4]), row
    # the teacher sees the RELLIS grass; the sim-trained model does not see its ground
    assert float(table_row(out, 'RELLIS-3D', 'teacher ADE20K')[-4]) > 0.5
    img = cv2.imread(str(sheet))
    # legend + header, 4 frames of 144 + 4 px; frame, truth and 4 models of 192 + 4 px
    assert img is not None and img.shape == (26 + 22 + 4 * 148 + 4, 6 * 196 + 4, 3)
    rows = json.loads(per_frame.read_text())
    assert len(rows) == 4 * 4 and {r['frame'] for r in rows} >= set(STEMS)
    figures = json.loads(report.read_text())
    teacher = figures['real']['MSRC-21']['teacher ADE20K']
    assert teacher['frames'] == 3 and 0 < teacher['miou_ground'] <= 1
    assert figures['real_skipped'] == {}


def test_teacher_absent_is_reported_skipped(tmp_path, msrc3, capsys, monkeypatch):
    assert run_eval('--teacher', str(tmp_path / 'absent.tflite'), msrc=msrc3) == 0
    out = capsys.readouterr().out
    assert 'teacher ADE20K skipped: ' in out
    assert out.count('skipped: ') == 2  # once per set
    monkeypatch.setitem(sys.modules, 'ai_edge_litert', None)
    monkeypatch.setitem(sys.modules, 'ai_edge_litert.interpreter', None)
    assert run_eval('--teacher', str(TEACHER), msrc=msrc3) == 0
    assert 'skipped: ai-edge-litert is not installed' in capsys.readouterr().out


def one_error_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith('error: '), err
    return err[0]


@pytest.mark.parametrize('fault', ['missing', 'truncated', 'wrong classes'])
def test_bad_model_is_one_line_and_exit_1(tmp_path, msrc3, capsys, fault):
    models = tmp_path / 'models'
    models.mkdir()
    shutil.copy(MODELS / 'lawnnet.onnx', models)
    bad = models / 'lawnnet_int8.onnx'
    if fault == 'truncated':
        data = (MODELS / 'lawnnet_int8.onnx').read_bytes()
        bad.write_bytes(data[: len(data) // 2])
    elif fault == 'wrong classes':
        channel_model(bad, classes=3)
    assert run_eval(models=models, msrc=msrc3) == 1
    line = one_error_line(capsys)
    assert str(bad) in line
    assert {
        'missing': 'not found',
        'truncated': 'could run it',
        'wrong classes': '3 output classes',
    }[fault] in line


def test_bad_teacher_or_msrc_folder_is_one_line_and_exit_1(tmp_path, msrc3, capsys):
    if not TEACHER.is_file():
        pytest.skip(f'{TEACHER} absent')
    pytest.importorskip('ai_edge_litert')
    bad = tmp_path / 'bad.tflite'
    bad.write_bytes(TEACHER.read_bytes()[:100_000])
    assert run_eval('--teacher', str(bad), msrc=msrc3) == 1
    assert str(bad) in one_error_line(capsys)
    assert run_eval('--teacher', str(TEACHER), msrc=tmp_path / 'nothing') == 1
    assert 'nothing' in one_error_line(capsys)
    (tmp_path / 'empty' / 'images').mkdir(parents=True)
    assert run_eval('--teacher', str(TEACHER), msrc=tmp_path / 'empty') == 1
    assert 'no images' in one_error_line(capsys)
