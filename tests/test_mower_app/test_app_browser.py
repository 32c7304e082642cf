"""The owner's app in a real browser (Debian's chromium, headless, driven by Playwright).

``mower sim --serve`` runs as an owner would run it; the test logs in, watches the simulated
mower move on the map, starts, pauses, resumes and stops it from the page, and checks that
the control endpoints refuse requests without a session. Screenshots of the main views go to
out/app/ (not committed).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from conftest import MAPS, ROOT
from mqtt_broker import free_port

MOWER = str(Path(sys.executable).parent / 'mower')
SHOTS = ROOT / 'out' / 'app'
CONTROL = ('start', 'start_zone', 'pause', 'resume', 'dock', 'emergency_stop')


def chromium() -> str:
    found = shutil.which('chromium') or shutil.which('chromium-browser')
    if found is None:
        pytest.fail('chromium is not installed: `make install` installs it (apt: chromium)')
    return found


def serve_sim(out: Path, *extra: str) -> tuple[str, str, subprocess.Popen]:
    """``mower sim --serve`` on the demo lawn at 20x on a free port: (url, password, process).

    ``extra``: more options (``--sim-start ...``); the process is killed if no app line comes.
    """
    port = free_port()
    proc = subprocess.Popen(
        [
            MOWER,
            'sim',
            str(MAPS / 'demo_lawn.geojson'),
            '--serve',
            f'127.0.0.1:{port}',
            *extra,
            '--speed',
            '20',
            '--no-bag',
            '--json',
            '--out',
            str(out),
        ],
        env={**os.environ, 'MUJOCO_GL': 'egl'},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    line = ''
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if line.startswith('app: ') or not line and proc.poll() is not None:
            break
    found = re.match(r'app: (http://\S+) \(password for this run: (\S+)\)', line)
    if not found:
        proc.kill()
        pytest.fail(f'no app line: {line!r}')
    return found.group(1).rstrip('/'), found.group(2), proc


def stop_sim(proc: subprocess.Popen) -> None:
    """Ctrl-C, as the owner ends a served run (killed if it does not end in a minute)."""
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture
def served(tmp_path):
    """``mower sim --serve`` on a free port: (url, password, process)."""
    url, password, proc = serve_sim(tmp_path / 'sim')
    try:
        yield url, password, proc
    finally:
        stop_sim(proc)


def log_in(page, url: str, password: str) -> None:
    """Open the page and log in; returns once the main view shows."""
    from playwright.sync_api import expect

    page.goto(url)
    page.fill('#password', password)
    page.click('#login-button')
    expect(page.locator('#main')).to_be_visible()


def post(url: str, headers: dict | None = None, body: dict | None = None) -> int:
    request = urllib.request.Request(
        url, data=json.dumps(body or {}).encode(), method='POST', headers=headers or {}
    )
    request.add_header('Content-Type', 'application/json')
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as err:
        return err.code


def test_the_owner_drives_the_simulated_mower_from_the_page(served):
    from playwright.sync_api import expect, sync_playwright

    url, password, _ = served
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium(), args=['--no-sandbox'])
        page = browser.new_page(viewport={'width': 1280, 'height': 800})
        failed = []  # anything the page tried to load from elsewhere
        page.on(
            'request',
            lambda r: failed.append(r.url) if not r.url.startswith((url, 'data:')) else None,
        )
        page.goto(url)
        expect(page.locator('#login')).to_be_visible()
        page.fill('#password', 'not the password')
        page.click('#login-button')
        expect(page.locator('#login-error')).not_to_be_empty()
        page.screenshot(path=SHOTS / 'login.png')
        page.fill('#password', password)
        page.click('#login-button')
        expect(page.locator('#main')).to_be_visible()
        expect(page.locator('#state')).to_contain_text('IDLE', timeout=30_000)
        lawn = page.locator('path.leaflet-interactive[fill="#7cc46f"]')  # a boundary's colour
        expect(lawn.first).to_be_visible()  # the lawn is drawn

        page.click('#start')
        expect(page.locator('#state')).to_contain_text('MOWING', timeout=60_000)
        first = page.locator('#map').get_attribute('data-robot')
        page.wait_for_function(
            'v => document.getElementById("map").dataset.robot !== v', arg=first, timeout=30_000
        )  # the pose moves on the map
        page.wait_for_function(  # the camera with its labels, and the mowed layer on the map
            """() => document.getElementById('camera').naturalWidth > 0
                && document.querySelector('#map img.mowed-layer')?.naturalWidth > 0""",
            timeout=30_000,
        )
        expect(page.locator('#camera-panel')).to_be_visible()
        # the zone's mowed share in this run, from the live status (zones_mowed_pct)
        expect(page.locator('#zones-panel .zone-mowed').first).to_have_text(
            re.compile(r'^\d+\.\d %$'), timeout=30_000
        )
        page.screenshot(path=SHOTS / 'mowing.png')
        expect(page.locator('#history tbody tr').first).to_contain_text('going on')  # the run

        page.click('#pause')
        expect(page.locator('#state')).to_contain_text('PAUSED', timeout=30_000)
        expect(page.locator('#blade')).to_have_text('off')
        page.click('#resume')
        expect(page.locator('#state')).to_contain_text('MOWING', timeout=30_000)

        page.click('#estop')
        expect(page.locator('#last-error')).to_contain_text('emergency stop', timeout=30_000)
        expect(page.locator('#blade')).to_have_text('off')
        page.wait_for_timeout(500)  # 10 simulated seconds: braking is over
        here = page.locator('#position').inner_text()
        page.wait_for_timeout(1500)  # 30 simulated seconds
        assert page.locator('#position').inner_text() == here  # the wheels stopped
        page.screenshot(path=SHOTS / 'emergency_stop.png')

        phone = browser.new_page(viewport={'width': 390, 'height': 844}, is_mobile=True)
        phone.goto(url)
        phone.fill('#password', password)
        phone.click('#login-button')
        expect(phone.locator('#estop')).to_be_visible()
        expect(phone.locator('#state')).not_to_have_text('-', timeout=30_000)
        phone.screenshot(path=SHOTS / 'phone.png')
        browser.close()
    assert not failed, f'the page reached outside the mower: {failed}'
    for name in ('login', 'mowing', 'emergency_stop', 'phone'):
        assert (SHOTS / f'{name}.png').stat().st_size > 5000


def test_control_endpoints_refuse_requests_without_a_session(served):
    url, password, _ = served
    for name in CONTROL:
        assert post(f'{url}/api/command/{name}', body={'zone': 1}) == 401, name
    # a session, but no CSRF token, or another site's page
    request = urllib.request.Request(
        f'{url}/api/login',
        data=json.dumps({'password': password}).encode(),
        method='POST',
        headers={'Content-Type': 'application/json'},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        csrf = json.loads(response.read())['csrf']
        cookie = response.headers['Set-Cookie'].split(';')[0]
    for name in CONTROL:
        assert post(f'{url}/api/command/{name}', {'Cookie': cookie}) == 403, name
        foreign = {'Cookie': cookie, 'X-CSRF-Token': csrf, 'Origin': 'http://evil.example'}
        assert post(f'{url}/api/command/{name}', foreign) == 403, name
    status = urllib.request.urlopen(f'{url}/api/session', timeout=10)
    assert json.loads(status.read())['authenticated'] is False
