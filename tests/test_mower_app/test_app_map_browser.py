"""Editing the map in a real browser: a keep-out drawn across the plan while the mower mows.

The owner draws a keep-out on the page (Leaflet-Geoman, real mouse clicks in headless
chromium), saves it: the plan changes to go around it and the mower never enters it. A shape
that crosses itself is refused with its message on the shape, and the saved map stays as it
was.
"""

from __future__ import annotations

import json
import time

from conftest import ROOT
from shapely.geometry import LineString, Point, box
from test_app_browser import chromium, log_in, served  # noqa: F401 (the fixture)

SHOTS = ROOT / 'out' / 'app'
NEW_BED = (2.5, 7.4, 4.5, 8.8)  # x0, y0, x1, y1 on the demo lawn (15 m x 10 m), no bed there


def click_at(page, x: float, y: float) -> None:
    """Click the map at the lawn's (x, y), metres."""
    box_ = page.locator('#map').bounding_box()
    px, py = page.evaluate(
        '([x, y]) => { const p = window.mowerApp.map().latLngToContainerPoint([y, x]);'
        ' return [p.x, p.y]; }',
        [x, y],
    )
    page.mouse.click(box_['x'] + px, box_['y'] + py)
    page.wait_for_timeout(150)


def draw_polygon(page, corners, role: str, name: str) -> None:
    page.select_option('#shape-role', role)
    page.fill('#shape-name', name)
    page.click('#shape-draw')
    for x, y in corners:
        click_at(page, x, y)
    click_at(page, *corners[0])  # the first corner again closes it


def api(page, path: str) -> dict:
    return page.evaluate(f'async () => (await window.mowerApp.api("{path}")).body')


def test_a_keep_out_drawn_across_the_plan_is_avoided_and_a_bad_one_refused(served):  # noqa: F811
    from playwright.sync_api import expect, sync_playwright

    url, password, _ = served
    SHOTS.mkdir(parents=True, exist_ok=True)
    bed = box(*NEW_BED)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium(), args=['--no-sandbox'])
        page = browser.new_page(viewport={'width': 1280, 'height': 900})
        log_in(page, url, password)
        expect(page.locator('#state')).to_contain_text('IDLE', timeout=30_000)
        expect(page.locator('#map-panel')).to_be_visible()
        plan = api(page, '/api/map')['plan']
        assert LineString(plan['points']).intersects(bed)  # the plan runs through it now
        page.click('#start')
        expect(page.locator('#state')).to_contain_text('MOWING', timeout=60_000)

        page.click('#map-edit')
        expect(page.locator('#map-edit-tools')).to_be_visible()
        x0, y0, x1, y1 = NEW_BED
        draw_polygon(page, [(x0, y0), (x1, y0), (x1, y1), (x0, y1)], 'keepout', 'new bed')
        expect(page.locator('#map-message')).to_contain_text("added keepout 'new bed'")
        page.screenshot(path=SHOTS / 'map_edit.png')
        page.click('#map-save')
        expect(page.locator('#map-message')).to_contain_text('saved as version 2', timeout=60_000)
        page.wait_for_function(
            'v => document.getElementById("map").dataset.planVersion !== v',
            arg=str(plan['version']),
            timeout=30_000,
        )
        saved = api(page, '/api/maps/2')
        drawn = next(f for f in saved['features'] if f['properties']['name'] == 'new bed')
        ring = drawn['geometry']['coordinates'][0]
        assert drawn['properties']['role'] == 'keepout'
        assert max(Point(c).distance(bed.exterior) for c in ring) < 0.05  # drawn where clicked
        new_plan = api(page, '/api/map')['plan']
        assert not LineString(new_plan['points']).intersects(bed)  # the plan goes around it

        # the mower never enters it: watch its centre for 25 s (about 8 simulated minutes)
        inside = []
        end = time.monotonic() + 25
        while time.monotonic() < end:
            s = api(page, '/api/status')
            if s['x_m'] is not None and bed.contains(Point(s['x_m'], s['y_m'])):
                inside.append((s['x_m'], s['y_m']))
            page.wait_for_timeout(100)
        assert not inside, inside
        expect(page.locator('#state')).not_to_contain_text('ERROR')

        # a keep-out that crosses itself: refused with its message, the saved map unchanged
        page.click('#map-edit')
        draw_polygon(page, [(6, 1.5), (8, 3.5), (8, 1.5), (6, 3.5)], 'keepout', 'bow tie')
        page.click('#map-save')
        expect(page.locator('#map-message')).to_have_class('refused')
        expect(page.locator('#map-message')).to_contain_text('bow tie')
        expect(page.locator('.fault-tooltip')).to_be_visible()  # on the shape at fault
        page.screenshot(path=SHOTS / 'map_refused.png')
        assert api(page, '/api/maps')['current'] == 2
        page.click('#map-cancel')
        browser.close()
    assert json.loads(json.dumps(saved))  # the download is GeoJSON
