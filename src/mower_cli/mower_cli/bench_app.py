"""``mower bench app``: the owner's app against the simulator, in headless chromium.

Page load: from navigation to the first status drawn on the page (logged in already), ``--loads``
times. Live update: from a state change in the stack (the moment the operator's status tracker
records the mission's new state, wall clock) to the page drawing it (the page's clock; the same
machine), over ``--changes`` pauses and resumes. Medians and p99 printed, and a JSON line.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

__all__ = ['add_app_bench', 'bench_app']

FIRST_STATUS = '() => document.getElementById("state").textContent.includes("(")'
HOOK = (
    '() => { window.__changes = []; window.mowerApp.on("status", (s) => {'
    ' if (s.state !== window.__last) { window.__last = s.state;'
    ' window.__changes.push([s.state, Date.now()]); } }); }'
)


def add_app_bench(bench_sub: Any) -> None:
    """Register ``mower bench app``."""
    from mower_cli.arg_types import integer

    b = bench_sub.add_parser('app', help="the owner's app: page load, live-update latency")
    b.add_argument('--loads', type=integer(1, 1000), default=20, help='page loads (default 20)')
    b.add_argument(
        '--changes', type=integer(2, 1000), default=20, help='state changes (default 20)'
    )
    b.set_defaults(func=bench_app)


def _p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]


def _wait(condition, timeout_s: float = 30.0) -> None:
    end = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > end:
            raise TimeoutError('the simulated mower did not answer in time')
        time.sleep(0.005)


def bench_app(args: argparse.Namespace) -> int:
    """Run the benchmark; exit status 1 (one line) without chromium or Playwright."""
    browser_path = shutil.which('chromium') or shutil.which('chromium-browser')
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        browser_path = None
    if browser_path is None:
        print('error: mower bench app needs chromium and playwright (make install)')
        return 1
    from mower_app.auth import set_password
    from mower_app.serve import AppServer
    from mower_app.server import AppSettings, create_app
    from mower_bringup import share_dir
    from mower_maps import load_map
    from mower_offline.operated_run import SimOperator
    from mower_offline.out_dir import StopRequest
    from mower_offline.run import MowingRun, RunConfig

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        lawn = load_map(share_dir() / 'maps' / 'demo_lawn.geojson')
        cfg = RunConfig(perception='truth', camera_hz=0.0, record=False)
        run = MowingRun(lawn, folder / 'run', cfg)
        operator = SimOperator(run)
        stop = StopRequest()
        thread = threading.Thread(
            target=run.run, kwargs={'progress': False, 'stop': stop, 'operator': operator}
        )
        set_password(folder / 'pw.json', 'bench password')
        settings = AppSettings(password_file=folder / 'pw.json', data_dir=folder / 'data')
        server = AppServer(create_app(operator, settings), '127.0.0.1', 0)
        url = server.start()
        thread.start()
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=browser_path, args=['--no-sandbox'])
                loads, changes = _measure(browser.new_page(), url, operator, args)
                browser.close()
        finally:
            stop.signum = 2
            thread.join(60)
            server.stop()
    figures = {
        'page_load_ms': {'median': statistics.median(loads), 'p99': _p99(loads), 'n': len(loads)},
        'live_update_ms': {
            'median': statistics.median(changes),
            'p99': _p99(changes),
            'n': len(changes),
        },
    }
    print(
        f'app: page load median {figures["page_load_ms"]["median"]:.0f} ms, p99 '
        f'{figures["page_load_ms"]["p99"]:.0f} ms ({len(loads)} loads); live update (state '
        f'change in the stack to the page) median {figures["live_update_ms"]["median"]:.0f} ms, '
        f'p99 {figures["live_update_ms"]["p99"]:.0f} ms ({len(changes)} changes)'
    )
    print(json.dumps({'bench': 'app', **figures}))
    return 0


def _measure(page: Any, url: str, operator: Any, args: argparse.Namespace):
    page.goto(url)
    page.fill('#password', 'bench password')
    page.click('#login-button')
    page.wait_for_function(FIRST_STATUS, timeout=30_000)
    loads = []
    for _ in range(args.loads):
        t0 = time.perf_counter()
        page.goto(url)
        page.wait_for_function(FIRST_STATUS, timeout=30_000)
        loads.append((time.perf_counter() - t0) * 1000.0)
    page.evaluate(HOOK)
    ok, why = operator.command('start')
    if not ok:
        raise RuntimeError(f'the mower did not start: {why}')
    _wait(lambda: operator.status().state == 'MOWING', 120)
    changes = []
    for i in range(args.changes):
        name, state = ('pause', 'PAUSED') if i % 2 == 0 else ('resume', 'MOWING')
        seen = page.evaluate('() => window.__changes.length')
        operator.command(name)
        _wait(lambda s=state: operator.status().state == s)
        changed_ms = operator.tracker.state_changed_wall * 1000.0
        page.wait_for_function(
            f'() => window.__changes.slice({seen}).some(c => c[0] === "{state}")',
            timeout=30_000,
        )
        at = page.evaluate(
            f'() => window.__changes.slice({seen}).find(c => c[0] === "{state}")[1]'
        )
        changes.append(at - changed_ms)
    return loads, changes
