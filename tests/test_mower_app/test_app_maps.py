"""Map editing in the app: checked, applied, kept as versions; bad edits change nothing."""

from __future__ import annotations

import copy
import json

from app_fakes import LAWN, SAME_ORIGIN, FakeOperator, login, make_client

KEEPOUT = {
    'type': 'Feature',
    'properties': {'role': 'keepout', 'name': 'new bed'},
    'geometry': {
        'type': 'Polygon',
        'coordinates': [[[2, 0.5], [3, 0.5], [3, 1], [2, 1], [2, 0.5]]],
    },
}


def edited(*features) -> dict:
    doc = copy.deepcopy(LAWN)
    doc['features'] += [copy.deepcopy(f) for f in features]
    return doc


def headers(csrf: str) -> dict:
    return {'X-CSRF-Token': csrf, 'Origin': SAME_ORIGIN}


def test_a_save_is_checked_applied_and_kept_as_a_new_version(tmp_path):
    client, operator = make_client(tmp_path)
    csrf = login(client)
    got = client.get('/api/maps').json()
    assert got['current'] == 1 and [v['version'] for v in got['versions']] == [1]
    r = client.post(
        '/api/maps', json={'map': edited(KEEPOUT), 'base_version': 1}, headers=headers(csrf)
    )
    assert r.status_code == 200, r.text
    assert r.json()['version'] == 2
    assert [f.name for f in operator.maps[-1].features][-1] == 'new bed'
    download = client.get('/api/maps/2')
    assert 'attachment' in download.headers['content-disposition']
    assert any(f['properties']['name'] == 'new bed' for f in download.json()['features'])
    first = client.get('/api/maps/1').json()
    assert not any(f['properties']['name'] == 'new bed' for f in first['features'])

    # another browser still on version 1: refused, nothing changed
    r = client.post('/api/maps', json={'map': edited(), 'base_version': 1}, headers=headers(csrf))
    assert r.status_code == 409 and r.json()['current'] == 2
    assert 'reload' in r.json()['error'] and len(operator.maps) == 1

    # restoring version 1 makes a version 3 with its content
    r = client.post('/api/maps/1/restore', json={'base_version': 2}, headers=headers(csrf))
    assert r.status_code == 200 and r.json()['version'] == 3
    assert client.get('/api/maps/3').json()['features'] == first['features']
    assert client.get('/api/maps').json()['versions'][-1]['note'] == 'restored version 1'
    assert client.get('/api/maps/9').status_code == 404


def test_bad_edits_say_why_on_the_feature_and_change_nothing(tmp_path):
    client, operator = make_client(tmp_path)
    csrf = login(client)
    outside = copy.deepcopy(KEEPOUT)
    outside['geometry']['coordinates'] = [[[20, 20], [21, 20], [21, 21], [20, 20]]]
    bow_tie = copy.deepcopy(KEEPOUT)
    bow_tie['geometry']['coordinates'] = [[[1, 0.2], [2, 1.5], [2, 0.2], [1, 1.5], [1, 0.2]]]
    for doc, feature, words in (
        (edited(outside), 1, 'outside every boundary'),
        (edited(bow_tie), 1, ''),
        ({'type': 'Feature'}, None, 'FeatureCollection'),
    ):
        r = client.post('/api/maps', json={'map': doc, 'base_version': 1}, headers=headers(csrf))
        assert r.status_code == 422, r.text
        assert r.json()['feature'] == feature and words in r.json()['error']
    r = client.post(
        '/api/maps', json={'map': 'not a map', 'base_version': 1}, headers=headers(csrf)
    )
    assert r.status_code == 400
    operator.map_refusal = 'the planner found no lawn to mow'
    r = client.post(
        '/api/maps', json={'map': edited(KEEPOUT), 'base_version': 1}, headers=headers(csrf)
    )
    assert r.status_code == 422 and 'no lawn to mow' in r.json()['error']
    assert client.get('/api/maps').json()['current'] == 1  # all refused: version 1 stands
    assert len(operator.maps) == 1  # only the last one reached the mower, which refused it


def test_map_changes_need_the_session_the_token_and_this_origin(tmp_path):
    client, operator = make_client(tmp_path)
    body = {'map': edited(KEEPOUT), 'base_version': 1}
    assert client.post('/api/maps', json=body).status_code == 401
    assert client.post('/api/maps/1/restore', json={'base_version': 1}).status_code == 401
    assert client.get('/api/maps').status_code == 401
    csrf = login(client)
    assert client.post('/api/maps', json=body).status_code == 403
    foreign = {'X-CSRF-Token': csrf, 'Origin': 'http://evil.example'}
    assert client.post('/api/maps', json=body, headers=foreign).status_code == 403
    assert not operator.maps


def test_the_versions_live_in_the_data_folder_and_survive_a_restart(tmp_path):
    client, _ = make_client(tmp_path)
    csrf = login(client)
    r = client.post(
        '/api/maps', json={'map': edited(KEEPOUT), 'base_version': 1}, headers=headers(csrf)
    )
    assert r.status_code == 200
    folder = tmp_path / 'data' / 'maps'
    index = json.loads((folder / 'index.json').read_text())
    assert [row['version'] for row in index] == [1, 2]
    # a restart: the mower still runs its own map (the fake's), which becomes the newest
    again, _ = make_client(tmp_path)
    login(again)
    got = again.get('/api/maps').json()
    assert got['current'] == 3 and got['versions'][-1]['note'] == 'the map the mower started with'


def test_saved_map_first_hands_the_last_save_to_the_mower_at_start(tmp_path):
    """The robot (``saved_map_first``): after a restart the owner's last save is in force."""
    client, _ = make_client(tmp_path)
    csrf = login(client)
    doc = edited(KEEPOUT)
    r = client.post('/api/maps', json={'map': doc, 'base_version': 1}, headers=headers(csrf))
    assert r.status_code == 200
    again, operator = make_client(tmp_path, saved_map_first=True)
    login(again)
    (lawn,) = operator.maps  # the saved map, handed to the mower at start
    assert len(lawn.features) == len(doc['features'])
    assert again.get('/api/maps').json()['current'] == 2  # nothing new saved
    # a mower that refuses it: its own map becomes the newest version, as in the simulator
    refusing = FakeOperator()
    refusing.map_refusal = 'no'
    third, _ = make_client(tmp_path, refusing, saved_map_first=True)
    login(third)
    assert third.get('/api/maps').json()['current'] == 3
