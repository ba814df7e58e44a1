"""The compiled settle (``mechanisms/compiled.py``) against its references: the Q-learning
kernel's plain settle (``q_reference``, itself checked against the engine in
``tests/test_qgame.py``) and the engine's tie rule (``ties.competition``), bit for bit, on
tie-heavy profiles (a coarse dyadic grid with 0, so sums tie exactly too) and on large groups."""

from __future__ import annotations

import numpy as np
import pytest

from dao_abm.ensemble import q_reference
from dao_abm.ensemble.qgame import QGame
from dao_abm.mechanisms import compiled, ties

RULES = [(a, s, p) for a in compiled.AGGREGATION_CODES for s in compiled.SHARING_CODES
         for p in ("first", "second")]
LAYOUTS = {
    "tie-heavy": (np.array([1, 0, 1, 0, 1, 2]), np.array([0.0, 0.25, 0.5, 0.75])),
    "large": (np.repeat([2, 0, 1], [40, 25, 35]), np.linspace(0.0, 1.0, 101)),
}


def _compiled(game: QGame, bids: np.ndarray, pick: np.ndarray):
    rows, n = bids.shape
    group_bids, price = np.empty((rows, game.starts.size - 1)), np.empty(rows)
    reward, scratch = np.empty((rows, n)), np.empty(n)
    wtp = game.aggregation == "wtp"
    sharing = compiled.SHARING_CODES.index(game.sharing)
    for r in range(rows):
        for j in range(group_bids.shape[1]):
            group_bids[r, j] = compiled.group_bid(bids[r], game.order, game.starts[j],
                                                  game.starts[j + 1], wtp, scratch)
        price[r] = compiled.settle(bids[r], group_bids[r], game.order, game.starts,
                                   game.values, group_bids[r].max(), pick[r],
                                   game.price == "first", sharing, scratch, reward[r])
    return group_bids, price, reward


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize(("aggregation", "sharing", "price"), RULES)
def test_settle_equals_the_reference(layout, aggregation, sharing, price) -> None:
    """Both tie rules: the lowest index (pick 0) and any tied group (pick drawn)."""
    labels, grid = LAYOUTS[layout]
    rng = np.random.default_rng(len(labels))
    game = QGame(values=rng.random(labels.size) + 0.5, grid=grid, price=price, groups=labels,
                 aggregation=aggregation, sharing=sharing)
    bids = grid[rng.integers(grid.size, size=(400, labels.size))]
    want_bids = q_reference.group_bid(game, bids)
    n_tied = (want_bids == want_bids.max(axis=1, keepdims=True)).sum(axis=1)
    assert layout == "large" or (n_tied > 1).mean() > 0.1
    for pick in (np.zeros(400, dtype=np.int64), rng.integers(0, n_tied)):
        group_bids, got_price, got_reward = _compiled(game, bids, pick)
        want_price, want_reward = q_reference.settle(game, bids, want_bids, pick)
        np.testing.assert_array_equal(group_bids, want_bids)
        np.testing.assert_array_equal(got_price, want_price)
        np.testing.assert_array_equal(got_reward, want_reward)


def test_competition_is_the_engines_tie_rule() -> None:
    rng = np.random.default_rng(3)
    for size in (1, 2, 5):
        group_bids = rng.integers(0, 3, size=(300, size)) / 2.0
        want_p, want_win = ties.competition(group_bids)
        p, tie_win = np.empty(size), np.empty(size, dtype=np.bool_)
        for r in range(300):
            compiled.competition(group_bids[r], p, tie_win)
            np.testing.assert_array_equal(p, want_p[r])
            np.testing.assert_array_equal(tie_win, want_win[r])
