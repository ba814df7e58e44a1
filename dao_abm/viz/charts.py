"""Charts drawn in the browser: ECharts options built from the model's arrays, and
``LiveChart``, the Solara component that sends them (``live_chart.vue``).

Why not matplotlib: re-drawing five matplotlib figures to PNG took about 1.4 s per Step,
whatever the population (the model's own round takes milliseconds). Here Python sends data
and the browser draws on a canvas. Charts over rounds send only the rounds a chart has not
got yet (``update``: rounds ``start < r <= end``; the browser appends them), so a Step costs
the same at round 1,000 as at round 1. Charts of one round (bids against values, the
affinity graph) are sent whole, sampled above ``MAX_POINTS`` points (the title says so).

ECharts 5.4 comes with ``solara-assets`` and is served by the page's own server.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import solara

from dao_abm.ensemble.fans import BANDS

#: Largest number of points a chart of one round draws; above it, a fixed random sample
#: (seed 0, the same members every round) is drawn and the title says "a sample of k of n".
MAX_POINTS = 2000
#: Colours of series (by metric) and of categories (by DAO, by size bucket).
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
           "#7f7f7f", "#bcbd22", "#17becf")
#: Line styles of the runs side by side: the first solid, the second dashed.
RUN_STYLES = ("solid", "dashed")
CHART_HEIGHT = 300


def finite(x: Any) -> float | None:
    """A JSON-safe number: NaN and infinities become None (a gap in the chart)."""
    x = float(x)
    return x if math.isfinite(x) else None


def sample_index(n: int, limit: int = MAX_POINTS, seed: int = 0) -> np.ndarray | None:
    """``(limit,)`` sorted member indices of a fixed random sample, or None when ``n <= limit``."""
    if n <= limit:
        return None
    return np.sort(np.random.default_rng(seed).choice(n, limit, replace=False))


def sample_note(n: int, limit: int = MAX_POINTS) -> str:
    """The note under a sampled chart's title."""
    return f"a random sample of {limit:,} of {n:,} members" if n > limit else ""


def base_option(title: str, *, legend: bool = True, top: int = 64,
                note: str = "") -> dict[str, Any]:
    """Title (and a note under it), tooltip, grid; no animation (a Step redraws at once)."""
    option: dict[str, Any] = {
        "animation": False,
        "title": {"text": title, "subtext": note, "left": 4, "itemGap": 2,
                  "textStyle": {"fontSize": 13}, "subtextStyle": {"fontSize": 11}},
        "tooltip": {"trigger": "item", "confine": True},
        "grid": {"left": 12, "right": 16, "top": top if legend else 36, "bottom": 28,
                 "containLabel": True},
    }
    if legend:
        option["legend"] = {"top": 36 if note else 22, "left": 4, "right": 60, "type": "scroll",
                            "textStyle": {"fontSize": 11}}
    return option


def value_axis(name: str, *, log: bool = False, side: str = "left",
               **extra: Any) -> dict[str, Any]:
    """A numeric y axis named above its end, clear of the tick labels however wide (``side``:
    which way the name runs); an x axis (``side="x"``) is named under its middle."""
    if side == "x":
        place = {"nameLocation": "middle", "nameGap": 24}
    else:
        place = {"nameLocation": "end", "nameTextStyle": {"fontSize": 11, "align": side}}
    return {"type": "log" if log else "value", "name": name, "scale": True, **place, **extra}


def lines_option(title: str, ylabel: str, series: Sequence[dict[str, Any]],
                 ylabel_right: str | None = None) -> dict[str, Any]:
    """Metrics over rounds. ``series``: dicts with ``name``, ``color``, ``style`` (solid or
    dashed), ``right`` (second axis), ``points`` (markers only)."""
    option = base_option(title)
    option["tooltip"] = {"trigger": "axis", "confine": True}
    option["xAxis"] = value_axis("round", side="x", min=0, minInterval=1, scale=False)
    option["yAxis"] = [value_axis(ylabel)]
    if ylabel_right:
        option["yAxis"].append(value_axis(ylabel_right, side="right",
                                          splitLine={"show": False}))
    option["series"] = [_line(s) for s in series]
    return option


def fan_option(title: str, ylabel: str, fans: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Quantiles across sessions over rounds (``dao_abm.ensemble.fans``), one fan per run
    (``fans``: dicts with ``name``, a suffix, and ``color``). A fan's series, in the order
    ``series.fan_points`` fills them: per band of ``BANDS`` (widest first) a transparent lower
    edge and the band's width stacked on it, then the median and session 0 (dashed).
    ``fanRole`` tells ``live_chart.vue``'s tooltip which is which (it shows a band as lower
    to upper, and never the lower edge).

    Points put the value first (``[value, round]``; a band's ``[width, round, lower,
    upper]``) and ``encode`` maps them back: on two value axes ECharts stacks the first
    numeric dimension, which must be the value, not the round."""
    option = base_option(title)
    option["tooltip"] = {"trigger": "axis", "confine": True}
    option["xAxis"] = value_axis("round", side="x", min=0, minInterval=1, scale=False)
    option["yAxis"] = [value_axis(ylabel)]
    series, legend = [], []
    for i, fan in enumerate(fans):
        color, tag = fan["color"], fan.get("name", "")
        common = {"type": "line", "data": [], "showSymbol": False, "symbol": "none",
                  "itemStyle": {"color": color}, "encode": {"x": 1, "y": 0}}
        for (label, _, _), opacity in zip(BANDS, (0.16, 0.32), strict=True):
            name, stack = f"{label}{tag}", f"band{i}-{label}"
            edge = {"name": name, "stack": stack, "stackStrategy": "all",
                    "lineStyle": {"opacity": 0}} | common
            series.append(edge | {"fanRole": "lower"})
            series.append(edge | {"fanRole": "band",
                                  "areaStyle": {"color": color, "opacity": opacity}})
            legend.append({"name": name, "icon": "rect",
                           "itemStyle": {"color": color, "opacity": 2 * opacity}})
        series.append(common | {"name": f"median{tag}", "fanRole": "median",
                                "lineStyle": {"color": color, "width": 2}})
        series.append(common | {"name": f"session 0{tag}", "fanRole": "session",
                                "lineStyle": {"color": color, "width": 1, "type": "dashed",
                                              "opacity": 0.8}})
        legend += [{"name": f"median{tag}"}, {"name": f"session 0{tag}"}]
    option["series"] = series
    option["legend"]["data"] = legend
    option["fan"] = True
    return option


def _line(s: dict[str, Any]) -> dict[str, Any]:
    style = {"color": s["color"], "type": s.get("style", "solid"), "width": 1.6}
    kind = "scatter" if s.get("points") else "line"
    line = {"name": s["name"], "type": kind, "data": [], "yAxisIndex": int(s.get("right", 0)),
            "itemStyle": {"color": s["color"]}, "symbolSize": 5,
            "symbol": "diamond" if s.get("right") else "circle"}
    if kind == "line":
        line |= {"lineStyle": style, "showSymbol": bool(s.get("symbols")), "symbol": "circle",
                 "connectNulls": bool(s.get("symbols"))}
    return line


def heat_option(title: str, ylabels: Sequence[str], *, ylabel: str, vmin: float,
                vmax: float, colors: Sequence[str], label: str) -> dict[str, Any]:
    """A heat map over rounds (x: rounds, appended by the browser; y: ``ylabels``)."""
    option = base_option(title, legend=False)
    option["grid"] |= {"right": 80}
    option["tooltip"] = {"position": "top", "confine": True}
    option["xAxis"] = {"type": "category", "name": "round", "data": [],
                       "nameLocation": "middle", "nameGap": 24}
    option["yAxis"] = {"type": "category", "data": list(ylabels), "name": ylabel}
    option["visualMap"] = {"min": vmin, "max": vmax, "calculable": True, "orient": "vertical",
                           "right": 0, "top": 40, "itemHeight": 150, "text": [label, ""],
                           "inRange": {"color": list(colors)}, "textStyle": {"fontSize": 10}}
    option["series"] = [{"type": "heatmap", "data": [], "progressive": 0}]
    return option


def scatter_option(title: str, xlabel: str, ylabel: str, groups: Sequence[dict[str, Any]],
                   *, log: bool = False, diagonal: tuple[float, float] | None = None,
                   axes: bool = True, note: str = "") -> dict[str, Any]:
    """Points of one round. ``groups``: dicts with ``name``, ``color``, ``data`` (``[x, y]``
    or ``[x, y, extra]``), optional ``size``; ``diagonal``: a y = x line over that range."""
    option = base_option(title, note=note, top=74 if note else 64)
    option["xAxis"] = value_axis(xlabel, log=log, show=axes, side="x")
    option["yAxis"] = value_axis(ylabel, log=log, show=axes)
    series = [{"name": g["name"], "type": "scatter", "data": g["data"], "large": True,
               "largeThreshold": MAX_POINTS + 1, "symbolSize": g.get("size", 5),
               "itemStyle": {"color": g["color"], "opacity": 0.75}} for g in groups]
    if diagonal is not None:
        lo, hi = diagonal
        series.append({"name": "bid = value", "type": "line", "data": [[lo, lo], [hi, hi]],
                       "showSymbol": False, "silent": True,
                       "lineStyle": {"color": "#888", "type": "dotted", "width": 1}})
    option["series"] = series
    return option


def to_json(option: dict[str, Any]) -> str:
    """An option as JSON text for ``LiveChart`` (no NaN: ``finite`` turns them into gaps)."""
    return json.dumps(option, allow_nan=False, separators=(",", ":"))


@solara.component_vue("live_chart.vue")
def _LiveChartWidget(option: str, update: str, view: str, filename: str, height: int,
                     event_click: Callable | None = None,
                     event_resync: Callable | None = None) -> None:
    pass


@solara.component
def LiveChart(view: str, option: str, *, points: Callable[[int], dict] | None = None,
              token: Any = None, end: int = 0, filename: str = "chart",
              on_click: Callable[[dict], None] | None = None, height: int = CHART_HEIGHT):
    """One chart. ``option`` is the ECharts option as JSON text (``to_json``, memoized by the
    caller); ``points(start)`` returns the series' points for rounds ``> start`` (up to
    ``end``), appended by the browser. ``token`` names what the chart shows (a new one starts
    it over).

    Options and points travel as JSON text: a component property holding nested lists is
    walked item by item by reacton on every render (that walk, not drawing, took most of a
    Step with the options as dicts)."""
    sent = solara.use_ref({"token": object(), "end": 0})
    _, set_resyncs = solara.use_state(0)
    start = sent.current["end"] if sent.current["token"] == token else 0
    update: dict[str, Any] = {"token": str(token), "start": start, "end": end, "series": None}
    if points is not None:
        update |= points(start)
    sent.current = {"token": token, "end": end}

    def resync(_data=None) -> None:
        sent.current = {"token": object(), "end": 0}
        set_resyncs(lambda k: k + 1)

    return _LiveChartWidget(option=option, update=json.dumps(update, allow_nan=False), view=view,
                            filename=filename,
                            height=height, event_click=on_click, event_resync=resync)
