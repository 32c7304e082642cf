"""All zones in their order (ZoneSequence) and each zone's mowed share (zone_shares)."""

from __future__ import annotations

import numpy as np
import pytest

from mower_control.operator import StatusTracker, ZoneSequence, zone_shares, zone_to_plan
from mower_maps import map_from_geojson
from mower_maps.mowed import MowedGrid


def test_start_on_one_zone_keeps_the_old_rule():
    seq = ZoneSequence()
    for args in [('start', 0, 0, 'IDLE'), ('start', 0, 2, 'CHARGING'), ('start', 0, 1, 'PAUSED')]:
        assert seq.plan_for(*args, zones=1) == zone_to_plan(*args)
    assert seq.zone == 0


def walk(seq: ZoneSequence, states: list[str], zone: int, zones: int = 3) -> list[int | None]:
    return [seq.observe(state, zone, zones) for state in states]


RUN = ['UNDOCKING', 'MOWING', 'RETURNING', 'DOCKING', 'IDLE']


def test_start_on_three_zones_mows_them_one_after_another():
    seq = ZoneSequence()
    assert seq.plan_for('start', 0, 0, 'IDLE', zones=3) == 1
    assert walk(seq, ['IDLE', *RUN], 1) == [None] * 5 + [2]
    # a low battery docks to CHARGING: the mission resumes the same zone by itself
    assert walk(seq, [*RUN[:3], 'DOCKING', 'CHARGING', *RUN], 2) == [None] * 9 + [3]
    assert walk(seq, RUN, 3) == [None] * 5  # the last zone: the run is over
    assert seq.zone == 0


def test_pause_and_resume_keep_the_sequence_and_other_commands_end_it():
    seq = ZoneSequence()
    seq.plan_for('start', 0, 0, 'IDLE', zones=2)
    walk(seq, ['UNDOCKING', 'MOWING'], 1)
    assert seq.plan_for('pause', 0, 1, 'MOWING', zones=2) is None
    assert seq.plan_for('start', 0, 1, 'PAUSED', zones=2) is None  # start resumes a pause
    assert seq.zone == 1
    assert seq.plan_for('dock', 0, 1, 'MOWING', zones=2) is None
    assert walk(seq, ['RETURNING', 'DOCKING', 'IDLE'], 1) == [None] * 3  # docked: no zone 2
    for command in ('start_zone', 'emergency_stop'):
        seq.plan_for('start', 0, 0, 'IDLE', zones=2)
        seq.plan_for(command, 2, 1, 'MOWING', zones=2)
        assert seq.zone == 0
    seq.plan_for('start', 0, 0, 'IDLE', zones=2)
    seq.end()  # the zone's start was refused
    assert walk(seq, RUN, 1) == [None] * 5


def test_a_map_saved_with_fewer_zones_ends_the_sequence_at_its_last():
    seq = ZoneSequence()
    seq.plan_for('start', 0, 0, 'IDLE', zones=3)
    assert walk(seq, RUN, 1, zones=1) == [None] * 5
    assert seq.zone == 0


def test_another_zones_run_does_not_move_the_sequence_on():
    seq = ZoneSequence()
    seq.plan_for('start', 0, 0, 'IDLE', zones=3)
    assert walk(seq, RUN, 2) == [None] * 5  # not the zone it waits for
    assert seq.zone == 1


def two_lawns() -> dict:
    def rect(x0, x1):
        ring = [[x0, 0], [x1, 0], [x1, 2], [x0, 2], [x0, 0]]
        return {'type': 'Polygon', 'coordinates': [ring]}

    feats = [
        {
            'type': 'Feature',
            'properties': {'role': 'boundary', 'name': 'a', 'order': 2},
            'geometry': rect(0, 4),
        },
        {
            'type': 'Feature',
            'properties': {'role': 'boundary', 'name': 'b', 'order': 1},
            'geometry': rect(4, 6),
        },
        {
            'type': 'Feature',
            'properties': {'role': 'keepout', 'name': 'bed'},
            'geometry': rect(2, 4)
            | {'coordinates': [[[2, 0.5], [3, 0.5], [3, 1.5], [2, 1.5], [2, 0.5]]]},
        },
    ]
    return {'type': 'FeatureCollection', 'features': feats}


def test_zone_shares_count_each_zones_mowable_area_in_zone_order():
    lawn = map_from_geojson(two_lawns())
    res = 0.1
    mowed = np.zeros((20, 60), bool)
    mowed[:, :20] = True  # x 0..2: half of zone 'a' (8 m², less the 1 m² bed = 7 m²)
    grid = MowedGrid(mowed, (0.0, 0.0), res)
    shares = zone_shares(grid, lawn)
    assert shares[0] == 0.0  # zone 1 is 'b' (order 1): nothing mowed
    assert shares[1] == pytest.approx(100.0 * 4.0 / 7.0, abs=0.1)
    tracker = StatusTracker(zones=2)
    tracker.zones_mowed(shares)
    assert tracker.status().as_dict()['zones_mowed_pct'] == shares
    tracker.set_zones(3)  # a new map: the shares are the old map's
    assert tracker.status().zones_mowed_pct == ()
