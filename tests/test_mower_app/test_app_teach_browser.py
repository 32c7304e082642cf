"""Teach mode from the page in a real browser (headless chromium): the on-screen joystick.

``mower sim --serve`` runs as an owner would run it; the test logs in, starts teaching, marks a
boundary, holds the joystick forwards with the mouse (pointer events, as a finger on a phone)
and watches the mower drive off its dock on the map, lets go and sees it stand, then cancels.
The screenshot goes to out/app/teach.png (not committed).
"""

from __future__ import annotations

import re

import pytest
from test_app_browser import SHOTS, chromium, log_in, serve_sim, stop_sim


def robot_xy(page) -> tuple[float, float]:
    x, y = page.locator('#map').get_attribute('data-robot').split(',')
    return float(x), float(y)


@pytest.mark.slow
def test_the_owner_drives_the_simulated_mower_with_the_joystick(tmp_path):
    from playwright.sync_api import expect, sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    url, password, proc = serve_sim(tmp_path / 'sim')
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium(), args=['--no-sandbox'])
            page = browser.new_page(viewport={'width': 1280, 'height': 900})
            log_in(page, url, password)
            expect(page.locator('#teach-panel')).to_be_visible()
            expect(page.locator('#state')).to_contain_text(re.compile('IDLE|CHARGING'))
            pad = page.locator('#joystick')
            expect(pad).to_have_class(re.compile('disabled'))  # not teaching yet
            expect(page.locator('[data-teach="finish"]')).to_be_disabled()

            page.click('#teach-start')
            expect(page.locator('#teach-message')).to_have_text(
                'teaching: drive with teleop; the blade stays off'
            )
            expect(page.locator('#state')).to_contain_text('TEACHING')
            expect(pad).not_to_have_class(re.compile('disabled'))
            page.click('[data-teach="boundary"]')
            expect(page.locator('#teach-message')).to_contain_text('recording boundary 1')

            # hold the stick forwards: the mower leaves its dock eastwards
            pad.scroll_into_view_if_needed()
            box = pad.bounding_box()
            cx, cy = box['x'] + box['width'] / 2, box['y'] + box['height'] / 2
            x0, y0 = robot_xy(page)
            page.mouse.move(cx, cy)
            page.mouse.down()
            page.mouse.move(cx, cy - 0.45 * box['height'], steps=4)
            page.wait_for_function(
                '([x0]) => Number(document.getElementById("map").dataset.robot'
                '.split(",")[0]) > x0 + 0.5',
                arg=[x0],
                timeout=30_000,
            )
            expect(page.locator('#teach-drive')).to_contain_text('driving +0.')
            expect(page.locator('#blade')).to_have_text('off')
            page.screenshot(path=SHOTS / 'teach.png')

            # let go: a zero, and the mower stands
            page.mouse.up()
            expect(page.locator('#teach-drive')).to_have_text('stopped')
            page.wait_for_timeout(500)
            stopped = robot_xy(page)
            page.wait_for_timeout(1500)  # 30 simulated seconds at 20x
            x1, y1 = robot_xy(page)
            assert abs(x1 - stopped[0]) < 0.02 and abs(y1 - stopped[1]) < 0.02
            assert x1 > x0 + 0.5 and abs(y1 - y0) < 0.5  # it went east, off the dock

            page.click('[data-teach="cancel"]')
            expect(page.locator('#teach-message')).to_contain_text('teaching cancelled')
            expect(page.locator('#state')).to_contain_text('IDLE')
            expect(pad).to_have_class(re.compile('disabled'))
            browser.close()
    finally:
        stop_sim(proc)
    assert (SHOTS / 'teach.png').stat().st_size > 5000
