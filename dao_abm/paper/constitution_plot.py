"""The ConstitutionDAO figure: one truthful auction, who pays what, and learning over rounds.

Every panel function takes the tidy table of ``constitution.run`` and an optional ``ax``
and returns the Figure.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from dao_abm.paper.common import figure_of, new_figure
from dao_abm.paper.constitution import MECHANISMS, auction_table, protocol_verdicts

COLORS = {"crowdfund": "tab:red", "dao-vickrey": "tab:blue", "dao-vickrey@wtp": "tab:blue"}
LABELS = {"crowdfund": "crowdfund (truthful: pay your pledge)",
          "dao-vickrey@wtp": "Mechanism 1's equal split at the DAO's WTP"}
WINNER = {1: "DAO", 2: "individual"}


def _members(frame: pd.DataFrame) -> pd.DataFrame:
    rows = frame[frame["part"] == "members"]
    return rows.pivot_table(index=["mechanism", "x"], columns="metric", values="value")


def auction_panel(frame: pd.DataFrame, ax: Axes | None = None) -> Figure:
    """Welfare, optimum and price ($M) of the truthful auction under each mechanism."""
    fig, ax = figure_of(ax)
    table = auction_table(frame)
    x = np.arange(len(table))
    for i, (metric, label) in enumerate((("welfare", "welfare"), ("optimum", "optimum"),
                                         ("price", "price paid"))):
        ax.bar(x + (i - 1) * 0.27, table[metric] / 1e6, 0.27, label=label)
    ax.axhline(table["dao_wtp"].iloc[0] / 1e6, color="black", ls=":", lw=1.2,
               label="DAO's WTP (most it can pay in equal shares)")
    ticks = [f"{m}\nwinner: {WINNER[int(r.winner)]}, {int(r.n_access):,} with access\n"
             f"OPT/welfare {r.ratio:.3f}" for m, r in table.iterrows()]
    ax.set_xticks(x, ticks, fontsize="small")
    ax.set_ylabel("\\$ million")
    ax.set_title("One auction, truthful bids")
    ax.set_ylim(top=ax.get_ylim()[1] * 1.3)
    ax.legend(fontsize="small", loc="upper right", ncols=2)
    return fig


def payments_panel(frame: pd.DataFrame, ax: Axes | None = None) -> Figure:
    """Payment against pledge, contributors sorted by pledge (log-log)."""
    fig, ax = figure_of(ax)
    members = _members(frame)
    for mechanism in members.index.unique("mechanism"):
        part = members.loc[mechanism]
        paying = part[part["payment"] > 0]
        ax.plot(paying["pledge"], paying["payment"], color=COLORS[mechanism],
                label=LABELS.get(mechanism, mechanism), lw=2)
        if mechanism == "dao-vickrey@wtp":
            share = 1.0 - paying.index.min()
            ax.annotate(f"top {share:.1%} pay \\${paying['payment'].iloc[0]:,.0f} each,\n"
                        "the rest nothing (no access)",
                        (paying["pledge"].iloc[0], paying["payment"].iloc[0]),
                        xytext=(0.97, 0.12), textcoords="axes fraction", fontsize="small",
                        ha="right", arrowprops={"arrowstyle": "->", "color": "dimgrey"})
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("pledge (\\$)")
    ax.set_ylabel("payment (\\$)")
    ax.set_title("Who pays what (if the DAO wins)")
    ax.legend(fontsize="small", loc="upper left")
    return fig


def lorenz_panel(frame: pd.DataFrame, ax: Axes | None = None) -> Figure:
    """Lorenz curves: share of the total paid by the members with the smallest payments."""
    fig, ax = figure_of(ax)
    members = _members(frame)
    ax.plot([0, 1], [0, 1], color="grey", lw=0.8, ls="--", label="everyone pays the same")
    for mechanism in members.index.unique("mechanism"):
        part = members.loc[mechanism]
        top = 1.0 - np.interp(0.99, part.index, part["paid_share"])
        ax.plot(part.index, part["paid_share"], color=COLORS[mechanism], lw=2,
                label=f"{LABELS.get(mechanism, mechanism)}: top 1% pay {top:.0%}")
    ax.set_xlabel("share of contributors (smallest payments first)")
    ax.set_ylabel("share of the total paid")
    ax.set_title("Concentration of payments")
    ax.legend(fontsize="small", loc="upper left")
    return fig


def learning_panel(frame: pd.DataFrame, metric: str, ax: Axes | None = None, *,
                   title: str = "", scale: float = 1.0, ls: str = "-", what: str = ""
                   ) -> Figure:
    """One learning metric over rounds, one line per mechanism (labelled ``mechanism`` or
    ``mechanism: what``)."""
    fig, ax = figure_of(ax)
    rows = frame[(frame["part"] == "learning") & (frame["metric"] == metric)]
    for mechanism in MECHANISMS:
        part = rows[rows["mechanism"] == mechanism]
        ax.step(part["x"], part["value"] / scale, where="post", color=COLORS[mechanism],
                ls=ls, label=f"{mechanism}: {what}" if what else mechanism, lw=1.8)
    ax.set_xscale("log")
    ax.set_xlabel("round (log scale)")
    ax.set_title(title or metric)
    ax.grid(alpha=0.3)
    return fig


PROTOCOL_STYLE = {"simultaneous": "tab:red", "inertia 5%": "tab:orange",
                  "inertia 0.2%": "tab:olive", "sequential": "tab:green"}


def protocols_panel(frame: pd.DataFrame, metric: str, ax: Axes | None = None, *,
                    title: str = "", scale: float = 1.0) -> Figure:
    """The crowdfund's learning under each revision setting: ``metric`` over rounds, one
    line per setting (``part = "protocols"``)."""
    fig, ax = figure_of(ax)
    rows = frame[(frame["part"] == "protocols") & (frame["metric"] == metric)]
    for setting, part in rows.groupby("setting", sort=False):
        ax.step(part["x"], part["value"] / scale, where="post", lw=1.8,
                color=PROTOCOL_STYLE.get(setting), label=setting)
    ax.set_xscale("log")
    ax.set_xlabel("round (log scale)")
    ax.set_title(title or metric)
    ax.grid(alpha=0.3)
    return fig


def plot(frame: pd.DataFrame) -> Figure:
    """The nine-panel ConstitutionDAO figure: the truthful auction (top), learning under
    the scenario's settings (middle), and the crowdfund's learning under each revision
    protocol (bottom)."""
    fig, axes = new_figure(3, 3, size=(16, 13))
    auction_panel(frame, axes[0])
    payments_panel(frame, axes[1])
    lorenz_panel(frame, axes[2])
    learning_panel(frame, "truthful_share", axes[3], what="truthful share")
    learning_panel(frame, "mean_bid_ratio", axes[3], ls="--", what="mean bid / value",
                   title="Learning: how members bid")
    axes[3].set_ylim(0, 1.05)
    axes[3].legend(fontsize="small", loc="lower left")
    learning_panel(frame, "winner", axes[4], title="Learning: who wins")
    axes[4].set_yticks([1, 2], ["DAO", "individual"])
    axes[4].set_ylim(0.7, 2.3)
    learning_panel(frame, "price", axes[5], title="Learning: price paid (\\$ million)", scale=1e6)
    table = auction_table(frame)
    for value, text in ((table["rival_value"].iloc[0], "individual's value"),
                        (table["dao_value"].iloc[0], "Σ pledges")):
        axes[5].axhline(value / 1e6, color="grey", lw=0.8, ls=":")
        axes[5].annotate(text, (1.0, value / 1e6), xycoords=("axes fraction", "data"),
                         ha="right", va="bottom", fontsize="small", color="dimgrey")
    if (frame["part"] == "protocols").any():
        protocols_panel(frame, "pledges", axes[6], scale=1e6,
                        title="Crowdfund by revision protocol: Σ pledges (\\$ million)")
        axes[6].axhline(table["rival_value"].iloc[0] / 1e6, color="grey", lw=0.8, ls=":")
        axes[6].legend(fontsize="small", loc="lower left")
        protocols_panel(frame, "rival_bid", axes[7], scale=1e6,
                        title="Crowdfund by revision protocol: the rival's bid (\\$ million)")
        protocols_panel(frame, "winner", axes[8],
                        title="Crowdfund by revision protocol: who wins")
        axes[8].set_yticks([1, 2], ["DAO", "individual"])
        axes[8].set_ylim(0.7, 2.3)
        verdicts = [f"{k}: {v}".replace("$", "\\$")
                    for k, v in protocol_verdicts(frame).items()]
        axes[8].text(0.02, 0.5, "\n".join(verdicts), transform=axes[8].transAxes,
                     fontsize="small", va="center")
    else:
        for ax in axes[6:]:
            ax.set_visible(False)
    first = table.iloc[0]
    fig.suptitle(f"ConstitutionDAO: {int(first['n_members']):,} contributors "
                 f"(\\${first['dao_value'] / 1e6:.1f}M pledged) against one bidder at "
                 f"\\${first['rival_value'] / 1e6:.1f}M — the DAO's crowdfund vs Mechanism 1")
    return fig
