"""The mechanisms users name: the paper's and the baselines it argues against."""

from __future__ import annotations

from dao_abm.mechanisms.two_level import TwoLevelMechanism

PRESETS: dict[str, TwoLevelMechanism] = {
    # Mechanism 1 (single item) and Mechanism 2 (additive, item by item): truthful,
    # budget-balanced, individually rational, an H_ℓ-approximation (Theorems 3.1, 3.2, 4.1).
    "dao-vickrey": TwoLevelMechanism("wtp", "second-price", "max-equal-split"),
    # All items as one lot: truthful for unit-demand members; an n-approximation (§4.2).
    "grand-bundle": TwoLevelMechanism("wtp", "grand-bundle", "max-equal-split"),
    # Appendix A: truthful parts that do not compose into a truthful whole.
    "vcg-equal-split": TwoLevelMechanism("wtp", "vcg", "max-equal-split"),
    # Pool all bids, split the bill evenly among everyone: a member's bid decides only
    # whether its DAO wins, not what it pays (a vote; models/split_the_bill.toml).
    "split-the-bill": TwoLevelMechanism("sum", "second-price", "equal-split-all"),
    # How ConstitutionDAO bid: pledges summed, pay-your-bid, shares pro rata.
    "crowdfund": TwoLevelMechanism("sum", "first-price", "proportional"),
}

#: Earlier names still accepted. ``free-rider`` was renamed because under sum + equal split
#: members do not free ride (measured in tests/test_claims.py: 85-99% stay truthful under the
#: neutral tie policies; low-value members underbid so their DAO loses, high-value ones
#: overbid); classical free riding arises under ``crowdfund``.
PRESET_ALIASES: dict[str, str] = {"free-rider": "split-the-bill"}


def preset(name: str) -> TwoLevelMechanism:
    """The preset called ``name`` (ValueError listing the presets otherwise)."""
    try:
        return PRESETS[PRESET_ALIASES.get(name, name)]
    except KeyError:
        raise ValueError(
            f"unknown mechanism {name!r}; choose one of: {', '.join(PRESETS)}"
        ) from None


def resolve(
    mechanism: str | None = None,
    *,
    aggregation: str | None = None,
    upper: str | None = None,
    cost_sharing: str | None = None,
    reserve: float = 0.0,
) -> TwoLevelMechanism:
    """A preset by name, or a composition of three names; parts given override the preset;
    ``reserve`` is the auctioneer's reserve price (``TwoLevelMechanism.reserve``)."""
    base = preset(mechanism) if mechanism else PRESETS["dao-vickrey"]
    return TwoLevelMechanism(
        aggregation or base.aggregation, upper or base.upper, cost_sharing or base.cost_sharing,
        reserve=reserve,
    )
