"""The one rule for equal group bids (``mechanisms/ties.py``), hand-worked, and the places
that use it agreeing with it."""

from __future__ import annotations

import numpy as np
from numpy.testing import assert_array_equal

from dao_abm.mechanisms import UPPER_MECHANISMS
from dao_abm.mechanisms.ties import competition, winner, wins_tie


def test_lowest_index_wins_and_what_each_group_must_beat():
    bids = np.array([[3.0, 5.0, 5.0, 1.0], [2.0, 2.0, 2.0, 2.0]])
    assert_array_equal(winner(bids), [1, 0])
    p, tie_win = competition(bids)
    assert_array_equal(p, [[5.0, 5.0, 5.0, 5.0], [2.0, 2.0, 2.0, 2.0]])
    # row 0: group 1 (the winner) would win a tie against group 2, group 2 would not; group 0
    # would (index 0 < 1); row 1: only group 0 wins ties
    assert_array_equal(tie_win, [[True, True, False, False], [True, False, False, False]])
    assert wins_tie(0, 1) and not wins_tie(2, 1)
    p, tie_win = competition(np.array([[4.0]]))  # a group alone gets the lot at 0
    assert p[0, 0] == 0.0 and tie_win[0, 0]


def test_every_upper_mechanism_gives_a_tied_lot_to_the_lowest_index():
    group_bids = np.array([[[1.0, 7.0, 7.0]]])  # (rows, lots, groups)
    for name in UPPER_MECHANISMS.names():
        who, _ = UPPER_MECHANISMS[name].allocate(group_bids, "single")
        assert who[0, 0] == 1, name
