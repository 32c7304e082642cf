"""The dock and the zones in the map editor, in a real browser (headless chromium, Playwright).

Against ``mower sim --serve`` on the demo lawn: the owner places the dock, drags it and sets
its heading, saves, and the mower's map has the new dock; a dock placed far outside the lawn
is refused with the map check's message on the dock, and the saved map stays as it was. On a
two-zone map (uploaded from the page): a zone renamed, given its own stripe angle and headland
passes and moved up is saved with those properties (``name``, ``order``, ``mowing``); a bad
number of passes is refused with the message on that zone. The zones panel's screenshot goes
to out/app/zones.png (not committed).
"""

from __future__ import annotations

import json
import re

from shapely.geometry import Point
from test_app_browser import SHOTS, chromium, log_in, served  # noqa: F401 (the fixture)
from test_app_map_browser import api, click_at


def rectangle(x0: float, y0: float, x1: float, y1: float) -> dict:
    ring = [[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]
    return {'type': 'Polygon', 'coordinates': [ring]}


def feature(geometry: dict, **properties) -> dict:
    return {'type': 'Feature', 'properties': properties, 'geometry': geometry}


def two_zones() -> dict:
    """The demo lawn's ground cut in two touching zones, 'west' then 'east', with its dock."""
    return {
        'type': 'FeatureCollection',
        'properties': {
            'name': 'two zones',
            'frame': 'enu',
            'units': 'm',
            'mowing': {'stripe_angle_deg': 'auto', 'headland_passes': 2},
        },
        'features': [
            feature(rectangle(0, 0, 7.5, 10), role='boundary', name='west'),
            feature(rectangle(7.5, 0, 15, 10), role='boundary', name='east'),
            feature({'type': 'Point', 'coordinates': [0.3, 5.0]}, role='dock', name='dock'),
        ],
    }


def logged_in(page, url: str, password: str) -> None:
    from playwright.sync_api import expect

    log_in(page, url, password)
    expect(page.locator('#state')).to_contain_text('IDLE', timeout=30_000)
    expect(page.locator('#map-panel')).to_be_visible()


def save_and_expect(page, text: str) -> None:
    from playwright.sync_api import expect

    page.click('#map-save')
    expect(page.locator('#map-message')).to_contain_text(text, timeout=60_000)


def dock_of(doc: dict) -> tuple[Point, float]:
    (dock,) = [f for f in doc['features'] if f['properties']['role'] == 'dock']
    return Point(dock['geometry']['coordinates']), dock['properties']['heading_deg']


def drag_dock_to(page, x: float, y: float) -> None:
    """Drag the dock marker to the lawn's (x, y), metres, with the mouse."""
    marker = page.locator('.dock-marker').bounding_box()
    box_ = page.locator('#map').bounding_box()
    px, py = page.evaluate(
        '([x, y]) => { const p = window.mowerApp.map().latLngToContainerPoint([y, x]);'
        ' return [p.x, p.y]; }',
        [x, y],
    )
    page.mouse.move(marker['x'] + marker['width'] / 2, marker['y'] + marker['height'] / 2)
    page.mouse.down()
    page.mouse.move(box_['x'] + px, box_['y'] + py, steps=8)
    page.mouse.up()
    page.wait_for_timeout(150)


def test_the_owner_places_drags_and_turns_the_dock_and_a_dock_off_the_lawn_is_refused(
    served,  # noqa: F811
):
    from playwright.sync_api import expect, sync_playwright

    url, password, _ = served
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium(), args=['--no-sandbox'])
        page = browser.new_page(viewport={'width': 1280, 'height': 900})
        logged_in(page, url, password)
        before, _ = dock_of(api(page, '/api/map')['lawn'])
        assert before.distance(Point(0.3, 5.0)) < 1e-6  # the demo lawn's

        page.click('#map-edit')
        expect(page.locator('#dock-tools')).to_be_visible()
        expect(page.locator('#dock-heading')).to_have_value('0')
        page.click('#dock-place')
        click_at(page, 14.7, 6.0)  # on the lawn's east edge: the dock moves there
        expect(page.locator('#map-message')).to_contain_text('dock placed at 14.70, 6.00')
        drag_dock_to(page, 14.7, 4.0)
        expect(page.locator('#map-message')).to_contain_text('dock moved to')
        page.fill('#dock-heading', '180')  # facing west, onto the lawn
        expect(page.locator('path.dock-heading')).to_have_count(1)  # the heading's arrow
        page.screenshot(path=SHOTS / 'dock_edit.png')
        save_and_expect(page, 'saved as version 2')
        dock, heading = dock_of(api(page, '/api/map')['lawn'])  # the mower's map
        assert dock.distance(Point(14.7, 4.0)) < 0.1, dock
        assert heading == 180
        assert dock_of(api(page, '/api/maps/2'))[1] == 180

        # far outside the lawn: refused, the message on the dock, nothing saved
        page.click('#map-edit')
        expect(page.locator('#dock-heading')).to_have_value('180')
        page.evaluate(
            '() => { const m = window.mowerApp.map();'
            ' m.setZoom(m.getZoom() - 1, { animate: false }); }'
        )
        page.click('#dock-place')
        click_at(page, 18.0, 5.0)
        page.click('#map-save')
        message = page.locator('#map-message')
        expect(message).to_have_class('refused', timeout=30_000)
        expect(message).to_contain_text('outside the lawn')
        tooltip = page.locator('.fault-tooltip')
        expect(tooltip).to_contain_text(
            re.compile(r"'dock' \(dock\) stands (2\.9|3\.0)\d m outside")
        )
        expect(page.locator('.dock-marker.fault')).to_be_visible()  # on the dock
        page.screenshot(path=SHOTS / 'dock_refused.png')
        assert api(page, '/api/maps')['current'] == 2
        assert dock_of(api(page, '/api/map')['lawn'])[0].distance(dock) < 1e-9
        page.click('#map-cancel')
        expect(page.locator('.dock-marker')).to_have_count(0)
        browser.close()


def test_the_owner_renames_reorders_and_sets_the_zones(served, tmp_path):  # noqa: F811
    from playwright.sync_api import expect, sync_playwright

    url, password, _ = served
    SHOTS.mkdir(parents=True, exist_ok=True)
    upload = tmp_path / 'two_zones.geojson'
    upload.write_text(json.dumps(two_zones()))
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium(), args=['--no-sandbox'])
        page = browser.new_page(viewport={'width': 1280, 'height': 900})
        logged_in(page, url, password)
        page.set_input_files('#map-upload', str(upload))
        expect(page.locator('#map-message')).to_contain_text('saved as version 2', timeout=60_000)
        zones = page.locator('#zones li.zone')
        expect(zones).to_have_count(2)  # read only until Edit map
        expect(zones.nth(0).locator('.zone-name')).to_have_value('west')
        expect(zones.nth(1).locator('.zone-name')).to_have_value('east')
        expect(zones.nth(0).locator('.zone-name')).to_be_disabled()
        # the live status' zones_mowed_pct; '–' while not known
        expect(zones.nth(0).locator('.zone-mowed')).to_have_text(re.compile(r'^(–|\d+\.\d %)$'))

        page.click('#map-edit')
        first, second = zones.nth(0), zones.nth(1)
        expect(first.locator('.zone-name')).to_be_enabled()
        first.locator('.zone-name').fill('back lawn')
        expect(second.locator('.zone-auto')).to_be_checked()  # the map's 'auto'
        second.locator('.zone-auto').uncheck()
        second.locator('.zone-angle').fill('30')
        second.locator('.zone-passes').fill('25')  # the map checks refuse it, on the zone
        save_and_expect(page, 'headland_passes must be an integer from 1 to 20')
        expect(page.locator('#map-message')).to_have_class('refused')
        expect(page.locator('.fault-tooltip')).to_contain_text("'east'")
        second.locator('.zone-passes').fill('3')
        second.locator('.zone-up').click()  # east is mowed first
        expect(zones.nth(0).locator('.zone-name')).to_have_value('east')
        expect(zones.nth(1).locator('.zone-name')).to_have_value('back lawn')
        page.locator('#zones-panel').screenshot(path=SHOTS / 'zones.png')
        save_and_expect(page, 'saved as version 3')

        saved = {
            f['properties']['name']: f['properties'] for f in api(page, '/api/maps/3')['features']
        }
        assert saved['east']['order'] == 1
        assert saved['east']['mowing'] == {'stripe_angle_deg': 30, 'headland_passes': 3}
        assert saved['back lawn']['order'] == 2
        assert 'mowing' not in saved['back lawn']  # left at the map's settings
        assert 'west' not in saved
        # the mower's map has them too, and the panel shows its zones in the new order
        lawn = api(page, '/api/map')['lawn']
        east = next(f for f in lawn['features'] if f['properties']['name'] == 'east')
        assert east['properties']['order'] == 1
        expect(zones.nth(0).locator('.zone-name')).to_have_value('east', timeout=10_000)
        expect(zones.nth(0).locator('.zone-name')).to_be_disabled()
        expect(zones.nth(0).locator('.zone-angle')).to_have_value('30')
        page.locator('#zones-panel').screenshot(path=SHOTS / 'zones_view.png')
        browser.close()
    assert (SHOTS / 'zones.png').stat().st_size > 2000
