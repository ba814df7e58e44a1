"""The page's views as Solara components: each a chart (``charts.LiveChart``) with a CSV
export of its data beside the chart's own PNG button.

Every view takes the runs (one, or two side by side) and the round shown: only the
``Dashboard`` subscribes to Mesa's ``update_counter`` and hands each view the round, so a Step
is one render pass of the page (each subscribed component would cost a pass of its own).
Charts over rounds overlay the runs (the second dashed); charts of one round are drawn once
per run.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pandas as pd
import solara

from dao_abm.viz import rounds, series
from dao_abm.viz.charts import LiveChart, heat_option, to_json
from dao_abm.viz.history import BUCKET_ROWS
from dao_abm.viz.live import Run

#: Diverging colours for mean bid/value (shading below 1 blue, above 1 red), sequential
#: colours for shares of members.
DIVERGING = ("#2166ac", "#92c5de", "#f7f7f7", "#f4a582", "#b2182b")
SEQUENTIAL = ("#f7fbff", "#9ecae1", "#4292c6", "#08306b")


def token(runs: Sequence[Run], *extra) -> tuple:
    """What a chart shows: the models (by identity) and any choice on the page."""
    return (*(id(run.model) for run in runs), *extra)


def round_of(runs: Sequence[Run]) -> int:
    return runs[0].model.steps


@solara.component
def Export(name: str, table: Callable[[], pd.DataFrame], round_: int):
    """A CSV download of ``table()``, made when clicked (named ``<name>.csv``: a name that
    changed every round would cost a message to the browser every Step)."""
    with solara.Row(justify="end", style={"height": "28px"}):
        solara.FileDownload(lambda: table().to_csv(index=False),
                            filename=f"{name}.csv", label="CSV",
                            mime_type="text/csv",
                            children=[solara.Button("CSV", small=True, text=True,
                                                    classes=["dao-csv", f"dao-csv-{name}"])])


def view_column() -> solara.Column:
    """The column holding a view: its CSV button, then its chart."""
    return solara.Column(gap="0px", classes=["dao-view"], style={"min-width": "0"})


@solara.component
def LinesChart(view: series.LinesView, runs: Sequence[Run], round_: int = 0):
    """One of ``series.LINES`` (metrics over rounds) or ``series.FANS`` (across sessions),
    appended round by round."""
    option = solara.use_memo(lambda: to_json(view.option(runs)), [token(runs)])
    end = round_of(runs)
    with view_column():
        Export(view.name, lambda: view.table(runs), end)
        LiveChart(view.name, option, points=lambda start: view.points(runs, start),
                  token=token(runs), end=end, filename=view.name)


@solara.component
def BidsChart(run: Run, suffix: str = "", round_: int = 0):
    """This round's bids against values."""
    end = run.model.steps
    option = solara.use_memo(lambda: to_json(rounds.bids_option(run.model, suffix)),
                             [id(run.model), end])
    with view_column():
        Export("bids", lambda: rounds.bids_table(run.model).assign(run=run.label), end)
        LiveChart("bids", option, token=token([run]), end=end, filename="bids")


@solara.component
def GraphChart(run: Run, on_dao: Callable[[int], None], round_: int = 0):
    """The affinity graph; clicking a member selects its DAO."""
    model = run.model
    end = model.steps
    graph = solara.use_memo(lambda: rounds.graph_option(model),
                            [id(model), hash(model.labels.tobytes()),
                             hash(model.values.tobytes())])
    option = solara.use_memo(lambda: graph and to_json(graph), [graph])
    if option is None:
        solara.Info("No affinity graph: graph.kind = 'none' (DAOs formed from sizes). "
                    "Pick a DAO from the list in the DAO members view.", dense=True,
                    style={"align-self": "start"})
        return

    def clicked(event: dict) -> None:
        value = event.get("value") or []
        if len(value) >= 3:
            on_dao(int(value[2]))

    with view_column():
        Export("graph", lambda: rounds.bids_table(model)[["member", "dao", "dao_size", "value"]],
               end)
        LiveChart("graph", option, token=token([run]), end=end, filename="graph",
                  on_click=clicked)


@solara.component
def HeatBySize(run: Run, suffix: str = "", round_: int = 0):
    """Mean bid/value per DAO-size bucket over rounds (grows a column per round)."""
    option = solara.use_memo(lambda: to_json(heat_option(
        f"Mean bid/value by DAO size over rounds{suffix}", rounds.SIZE_BUCKET_NAMES,
        ylabel="DAO size", vmin=0.0, vmax=2.0, colors=DIVERGING, label="bid/value")), [suffix])
    end = run.model.steps
    with view_column():
        Export("by-size", lambda: series.by_size_table(run), end)
        LiveChart("by-size", option, points=lambda s: series.by_size_points(run, s),
                  token=token([run]), end=end, filename="by-size")


@solara.component
def Distribution(run: Run, row: str, suffix: str = "", round_: int = 0):
    """Share of members per bid/value bin over rounds, for DAOs of one size bucket (or all)."""
    index = BUCKET_ROWS.index(row)
    option = solara.use_memo(lambda: to_json(heat_option(
        f"Bid/value distribution over rounds, DAO size {row}{suffix}", series.bin_labels(),
        ylabel="bid/value", vmin=0.0, vmax=1.0, colors=SEQUENTIAL, label="share")), [row, suffix])
    end = run.model.steps
    with view_column():
        Export("distribution", lambda: series.distribution_table(run), end)
        LiveChart("distribution", option,
                  points=lambda s: series.distribution_points(run, index, s),
                  token=token([run], row), end=end, filename="distribution")


@solara.component
def MembersHistory(run: Run, dao: int, round_: int = 0):
    """The watched members of ``dao``: bid/value over rounds, one line per member."""
    model = run.model
    watched = model.history.members_of(dao, model.labels)
    members = model.history.watched[watched]
    option = solara.use_memo(lambda: to_json(_members_lines(dao, members)),
                             [id(model), dao, members.tobytes()])
    end = model.steps
    with view_column():
        Export("member-history", lambda: rounds.member_history_table(model, dao), end)
        LiveChart("member-history", option,
                  points=lambda s: rounds.member_history_points(model, watched, s),
                  token=token([run], dao, members.tobytes()), end=end,
                  filename=f"dao{dao}-members")


def _members_lines(dao: int, members) -> dict:
    from dao_abm.viz.charts import PALETTE, lines_option

    shown = [{"name": f"member {m}", "color": PALETTE[i % len(PALETTE)]}
             for i, m in enumerate(members)]
    option = lines_option(f"DAO {dao}: bid/value of {len(members)} watched members over rounds",
                          "bid/value", shown)
    option["legend"]["show"] = len(members) <= 12
    return option


@solara.component
def MembersNow(run: Run, dao: int, round_: int = 0):
    """The members of ``dao`` this round: bid against value, access marked."""
    model = run.model
    end = model.steps
    option = solara.use_memo(lambda: to_json(rounds.members_option(model, dao)),
                             [id(model), dao, end])

    def table() -> pd.DataFrame:
        frame = rounds.bids_table(model)
        return frame[frame["dao"] == dao]

    with view_column():
        Export("members", table, end)
        LiveChart("members", option, token=token([run], dao), end=end,
                  filename=f"dao{dao}")
