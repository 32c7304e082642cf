"""A schedule window starts a run in simulated time, set up in a real browser (headless chromium).

``mower sim --serve --sim-start`` runs as an owner would run it, its clock starting on a known
Monday morning; the test logs in, adds a window two simulated minutes later, saves, sees the next
run, and watches the mower start without anyone pressing Start. An overlapping window is then
refused with the server's message, and a reload shows the schedule unchanged. The screenshot
goes to out/app/schedule.png (not committed).
"""

from __future__ import annotations

import re

import pytest
from test_app_browser import SHOTS, chromium, serve_sim, stop_sim

SIM_START = '2025-06-02T08:58'  # a Monday; the window opens 120 simulated seconds later
WINDOW = ('Mon', '09:00', '10:00')


def add_window(page, day: str, start: str, end: str) -> None:
    page.click('#schedule-add')
    row = page.locator('#schedule-windows tr').last
    row.locator('.window-day').select_option(label=day)
    row.locator('.window-start').fill(start)
    row.locator('.window-end').fill(end)


@pytest.mark.slow
def test_a_schedule_window_starts_the_simulated_mower(tmp_path):
    from playwright.sync_api import expect, sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:  # the browser first: the simulated clock runs from the start
        browser = p.chromium.launch(executable_path=chromium(), args=['--no-sandbox'])
        page = browser.new_page(viewport={'width': 1280, 'height': 900})
        url, password, proc = serve_sim(tmp_path / 'sim', '--sim-start', SIM_START)
        try:
            page.goto(url)
            page.fill('#password', password)
            page.click('#login-button')
            expect(page.locator('#schedule-panel')).to_be_visible()
            expect(page.locator('#next-run')).to_have_text('next run: none planned')
            add_window(page, *WINDOW)
            page.fill('#schedule-battery', '30')
            page.click('#schedule-save')
            expect(page.locator('#schedule-message')).to_have_text('schedule saved')
            # the window's start: due (not started yet) whether or not it has opened already
            expect(page.locator('#next-run')).to_contain_text('Mon 2025-06-')
            expect(page.locator('#next-run')).to_have_text(
                re.compile(r'next run: Mon 2025-06-(02|09) 09:00')
            )
            assert page.locator('#state').inner_text().startswith(('IDLE', 'CHARGING'))

            # nobody presses Start: the window does
            expect(page.locator('#state')).to_contain_text('MOWING', timeout=90_000)
            expect(page.locator('#next-run')).to_have_text('next run: Mon 2025-06-09 09:00')

            add_window(page, 'Mon', '09:30', '10:30')  # overlaps the first
            page.click('#schedule-save')
            message = page.locator('#schedule-message')
            expect(message).to_contain_text(
                'windows 1 (Mon 09:00-10:00) and 2 (Mon 09:30-10:30) overlap'
            )
            expect(message).to_have_class(re.compile('refused'))
            page.locator('#schedule-panel').scroll_into_view_if_needed()
            page.screenshot(path=SHOTS / 'schedule.png', full_page=True)

            page.reload()  # what the mower keeps: the first window only
            expect(page.locator('#schedule-windows tr')).to_have_count(1, timeout=30_000)
            row = page.locator('#schedule-windows tr').first
            expect(row.locator('.window-start')).to_have_value('09:00')
            expect(row.locator('.window-end')).to_have_value('10:00')
            expect(page.locator('#schedule-battery')).to_have_value('30')
        finally:
            browser.close()
            stop_sim(proc)
    assert (SHOTS / 'schedule.png').stat().st_size > 5000
