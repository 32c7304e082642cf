"""Exact-stamp pairing of label images with their confidence images."""

import pytest

from mower_mapping.stamp_pairing import StampPairer


def test_pairs_in_either_order_by_exact_stamp():
    p = StampPairer(depth=3)
    assert p.add_first(10, 'L10') == []
    assert p.add_second(10, 'C10') == [(10, 'L10', 'C10')]
    assert p.add_second(20, 'C20') == []  # the confidence came first this time
    assert p.add_first(20, 'L20') == [(20, 'L20', 'C20')]
    assert p.add_first(30, 'L30') == []
    assert p.add_second(31, 'C31') == [(30, 'L30', None)]  # not the same stamp: no pair
    assert (p.paired, p.unpaired, p.dropped) == (2, 1, 0)


def test_labels_whose_confidence_was_lost_go_on_alone():
    p = StampPairer(depth=2)
    p.add_first(1, 'L1')
    p.add_first(2, 'L2')
    assert p.add_first(3, 'L3') == [(1, 'L1', None)]  # more than depth waiting
    assert p.add_second(3, 'C3') == [(2, 'L2', None), (3, 'L3', 'C3')]  # C2 will not come
    assert (p.paired, p.unpaired) == (1, 2)


def test_a_confidence_whose_labels_were_lost_is_dropped():
    p = StampPairer(depth=2)
    p.add_second(1, 'C1')
    assert p.add_first(2, 'L2') == []  # L1 will not come: C1 goes
    assert p.dropped == 1
    for t in (3, 4, 5):
        p.add_second(t, f'C{t}')  # L2 is released at C3; C3..C5 wait, at most two kept
    assert p.unpaired == 1 and p.dropped == 2
    assert p.add_first(5, 'L5') == [(5, 'L5', 'C5')]
    with pytest.raises(ValueError, match='depth'):
        StampPairer(depth=0)
