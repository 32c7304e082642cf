"""The `mower` command line: map check, plan --json, errors as one line."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from conftest import MAPS, SHARED_DATA

from mower_cli.main import main

REQUIRED_KEYS = {
    'coverage_pct',
    'coverage_reachable_pct',
    'overlap_pct',
    'path_length_m',
    'lower_bound_m',
    'turns',
    'violations',
    'plan_time_s',
}


def test_plan_json_prints_one_object_with_the_required_keys(tmp_path, capsys):
    assert (
        main(['plan', str(MAPS / 'l_shaped_lawn.geojson'), '--out', str(tmp_path), '--json']) == 0
    )
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1
    report = json.loads(out[0])
    assert REQUIRED_KEYS <= set(report)
    assert report['violations'] == 0 and report['coverage_reachable_pct'] >= 99.5
    assert report['path_length_m'] > report['lower_bound_m'] > 0
    assert (tmp_path / 'l_shaped_lawn.plan.png').read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'
    geo = json.loads((tmp_path / 'l_shaped_lawn.plan.geojson').read_text())
    assert geo['features'][0]['properties']['role'] == 'path'
    assert json.loads((tmp_path / 'l_shaped_lawn.plan.json').read_text()) == report


def test_plan_options_reach_the_planner(tmp_path, capsys):
    assert (
        main(
            [
                'plan',
                str(MAPS / 'demo_lawn.geojson'),
                '--out',
                str(tmp_path),
                '--json',
                '--angle',
                '30',
                '--passes',
                '3',
            ]
        )
        == 0
    )
    report = json.loads(capsys.readouterr().out)
    assert report['stripe_angle_deg'] == pytest.approx(30.0)


def test_map_check_ok_and_error(tmp_path, capsys):
    assert main(['map', 'check', str(MAPS / 'demo_lawn.geojson')]) == 0
    assert 'ok' in capsys.readouterr().out
    bad = tmp_path / 'bad.geojson'
    bad.write_text('{"type": "FeatureCollection", "features": [')
    assert main(['map', 'check', str(bad)]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith('error: ') and 'not JSON' in err and '\n' not in err


def test_plan_of_a_bad_map_is_one_line_not_a_traceback(tmp_path):
    bad = tmp_path / 'lawn.geojson'
    bad.write_text('')
    result = subprocess.run(
        [sys.executable, '-m', 'mower_cli.main', 'plan', str(bad)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    assert result.stderr.strip().count('\n') == 0 and 'empty file' in result.stderr
    assert 'Traceback' not in result.stderr


@pytest.mark.skipif(
    not (SHARED_DATA / 'fields2cover-fields').is_dir(), reason='shared Fields2Cover data absent'
)
def test_map_import_then_plan(tmp_path, capsys):
    out = tmp_path / 'field.geojson'
    assert (
        main(
            [
                'map',
                'import',
                str(SHARED_DATA / 'fields2cover-fields' / 'test.json'),
                '--out',
                str(out),
                '--area',
                '800',
            ]
        )
        == 0
    )
    assert main(['plan', str(out), '--out', str(tmp_path), '--json']) == 0
    report = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert report['violations'] == 0 and report['coverage_reachable_pct'] >= 99.5
