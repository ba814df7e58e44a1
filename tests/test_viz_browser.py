"""``dao-abm viz`` end to end: a real server and a real headless Chromium (Playwright).

Starts ``dao-abm viz`` on a free port of 127.0.0.1 with a small population, opens the page,
checks that the affinity graph and the charts are there, presses Step and checks that the
step counter, the summary and the charts change. Needs Debian's Chromium at
``/usr/bin/chromium`` (``make test`` installs it first, through ``make machine``, where it
can; Playwright's own browser download is never used) and the ``playwright`` package (the
``dev`` extra); the tests are skipped, saying why, where either is missing.
"""

from __future__ import annotations

import io
import os
import re
import signal
import socket
import struct
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pytest

from dao_abm.cli import viz_cmd
from dao_abm.viz import ENV_OVERRIDES, ENV_SCENARIO

sync_api = pytest.importorskip(
    "playwright.sync_api", reason="the playwright package is missing (pip install -e '.[dev]')")

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
SERVER_START_S = 120
PAGE_S = 60
MODELS = Path(__file__).resolve().parents[1] / "models"


def chromium() -> Path:
    """Debian's Chromium (``make test`` installs it where it can: ``make machine``), else skip."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: `make machine` installs it as root with apt-get "
                    "(apt-get install chromium)")
    return CHROMIUM


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_served(url: str, server: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + SERVER_START_S
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"dao-abm viz exited with {server.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.3)
    pytest.fail(f"dao-abm viz did not serve {url} within {SERVER_START_S} s:\n"
                f"{log.read_text()[-3000:]}")


@dataclass(frozen=True)
class Served:
    """A page being served: its address and the server's terminal output."""

    url: str
    log: Path
    process: subprocess.Popen = field(repr=False)


def dao_abm_command() -> list[str]:
    script = Path(sys.executable).with_name("dao-abm")
    return [str(script)] if script.exists() else [sys.executable, "-m", "dao_abm.cli"]


def launch(name: str, args: list[str], folder: Path, env: dict | None = None) -> Served:
    """Start ``dao-abm viz ARGS`` (or, with ``env``, ``solara run`` of the page itself with
    those environment variables) on a free port of 127.0.0.1, in its own session."""
    port = free_port()
    log = folder / f"{name}.log"
    if env is None:
        command = [*dao_abm_command(), "viz", "--host", "127.0.0.1", "--port", str(port), *args]
    else:
        command = viz_cmd.server_command("127.0.0.1", port)
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, start_new_session=True,
                                   env=None if env is None else os.environ | env)
    return Served(f"http://127.0.0.1:{port}/", log, process)


def stop(served: Served) -> None:
    os.killpg(served.process.pid, signal.SIGTERM)  # its own session: dao-abm and solara
    try:
        served.process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(served.process.pid, signal.SIGKILL)
        served.process.wait()


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    """The pages the tests open, started together (each takes seconds to start): a small
    scenario, two runs side by side, ConstitutionDAO (17,437 members), the small scenario
    with 4 sessions, and a scenario that cannot be read (a folder), served by ``solara run``
    directly since the CLI refuses it."""
    folder = tmp_path_factory.mktemp("viz")
    small = ["--set", "population.n_members=60"]
    started = {
        "small": launch("small", small, folder),
        "pair": launch("pair", [*small, "--compare", "mechanism.preset=crowdfund,dao-vickrey"],
                       folder),
        "big": launch("big", [str(MODELS / "constitution_dao.toml")], folder),
        "fans": launch("fans", [*small, "--set", "sessions=4"], folder),
        "broken": launch("broken", [], folder, env=viz_cmd.QUIET_SERVER | {
            ENV_SCENARIO: str(folder), ENV_OVERRIDES: "[]"}),
    }
    try:
        for served in started.values():
            wait_until_served(served.url, served.process, served.log)
        yield started
    finally:
        for served in started.values():
            stop(served)


@pytest.fixture(scope="module")
def server(servers):
    return servers["small"]


@pytest.fixture(scope="module")
def browser():
    """One headless Chromium for the module (starting it takes a second or two)."""
    executable = chromium()
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(executable),
                                              args=CHROMIUM_ARGS, headless=True)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def page(browser):
    """A page in a fresh context of its own (no cookies, storage or cache from other tests)."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000},
                                  accept_downloads=True)
    try:
        yield context.new_page()
    finally:
        context.close()


OVERVIEW = ("welfare", "truthful", "epsilon", "winner", "graph", "bids")
VIEWS = {"Overview": OVERVIEW, "Dynamics": ("by-size", "distribution"),
         "DAO members": ("member-history", "members")}


def chart(page, view: str):
    """The canvas holder of a view's chart (``data-drawn``: the round it last drew)."""
    return page.locator(f".dao-{view} .dao-live-canvas").first


def wait_drawn(page, views, round_: int, timeout: float = PAGE_S) -> None:
    """Until every chart of ``views`` has drawn round ``round_``."""
    for view in views:
        sync_api.expect(chart(page, view)).to_have_attribute(
            "data-drawn", str(round_), timeout=timeout * 1000)


def open_page(page, url: str) -> None:
    page.goto(url)
    sync_api.expect(page.get_by_text(re.compile(r"^Step: \d+$"))).to_have_text(
        "Step: 0", timeout=PAGE_S * 1000)


def step(page, k: int) -> None:
    """Press Step and wait for the counter to show ``k``."""
    page.get_by_role("button", name="Step", exact=True).click()
    sync_api.expect(page.get_by_text(re.compile(r"^Step: \d+$"))).to_have_text(
        f"Step: {k}", timeout=PAGE_S * 1000)


def tab(page, name: str) -> None:
    page.locator(".dao-tabs").get_by_role("button", name=name).click()


def changed(locator, before: bytes, timeout: float = 20) -> bool:
    """Whether ``locator``'s pixels differ from ``before`` within ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if locator.screenshot() != before:
            return True
        time.sleep(0.25)
    return False


def download(page, button) -> bytes:
    with page.expect_download(timeout=PAGE_S * 1000) as info:
        button.click()
    return Path(info.value.path()).read_bytes()


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk (after checking the signature)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def test_step_updates_every_chart(server, page, tmp_path):
    expect = sync_api.expect
    open_page(page, server.url)
    wait_drawn(page, OVERVIEW, 0)
    summary = page.locator(".dao-summary")
    expect(summary).to_contain_text("60 bidders")
    expect(summary).to_contain_text("round 0")
    for label in ("Mechanism preset", "Learning rule", "Members", "Seed"):
        expect(page.get_by_text(label, exact=True).first).to_be_visible()
    expect(page.locator(".dao-command")).to_contain_text("dao-abm viz")
    before = {view: chart(page, view).screenshot() for view in ("welfare", "truthful", "bids")}

    step(page, 1)
    expect(summary).to_contain_text("round 1")
    expect(summary).to_contain_text("OPT/welfare")
    expect(page.locator(".dao-command")).to_contain_text("--rounds 1")
    wait_drawn(page, OVERVIEW, 1)
    for view, pixels in before.items():
        assert changed(chart(page, view), pixels), f"{view} chart did not change"
    for name in ("Dynamics", "DAO members"):
        tab(page, name)
        wait_drawn(page, VIEWS[name], 1)
    step(page, 2)
    wait_drawn(page, VIEWS["DAO members"], 2)
    shot = tmp_path / "dao-abm-viz.png"
    page.screenshot(path=str(shot))
    assert shot.stat().st_size > 10_000


def test_selecting_a_dao_shows_its_members(server, page):
    expect = sync_api.expect
    open_page(page, server.url)
    step(page, 1)
    tab(page, "DAO members")
    wait_drawn(page, VIEWS["DAO members"], 1)
    page.locator(".dao-picker .v-select").click()
    option = page.locator(".v-menu__content .v-list-item").nth(1)
    text = option.inner_text()
    dao, size = map(int, re.fullmatch(r"DAO (\d+) \((\d+) members\)", text.strip()).groups())
    option.click()
    note = page.locator(".dao-members-note")
    expect(note).to_contain_text(f"DAO {dao}: {size} members")
    members = pd.read_csv(io.BytesIO(download(page, page.locator(".dao-csv-members"))))
    assert len(members) == size and set(members["dao"]) == {dao}
    history = pd.read_csv(io.BytesIO(download(page, page.locator(".dao-csv-member-history"))))
    assert set(history["member"]) == set(members["member"]) and set(history["round"]) == {1}

    tab(page, "Overview")  # a click on a member in the graph selects its DAO
    wait_drawn(page, ("graph",), 1)
    x, y, clicked = page.evaluate(GRAPH_NODE)
    chart(page, "graph").click(position={"x": x, "y": y})
    expect(note).to_contain_text(f"DAO {clicked}: ", timeout=PAGE_S * 1000)


#: The pixel position and DAO of the first member drawn in the graph (ECharts' own API).
GRAPH_NODE = """() => {
  const el = document.querySelector('.dao-graph .dao-live-canvas');
  const modules = Object.values(requirejs.s.contexts._.defined);
  const echarts = modules.find(m => m && m.getInstanceByDom);
  const chart = echarts.getInstanceByDom(el);
  const node = chart.getOption().series[1].data[0].value;
  const [x, y] = chart.convertToPixel({seriesIndex: 1}, [node[0], node[1]]);
  return [x, y, node[2]];
}"""


def test_exports_download_valid_files(server, page):
    open_page(page, server.url)
    step(page, 1)
    step(page, 2)
    wait_drawn(page, OVERVIEW, 2)
    welfare = pd.read_csv(io.BytesIO(download(page, page.locator(".dao-csv-welfare"))))
    assert welfare["round"].tolist() == [1, 2]
    assert {"welfare", "optimal_welfare", "approximation_ratio"} <= set(welfare.columns)
    bids = pd.read_csv(io.BytesIO(download(page, page.locator(".dao-csv-bids"))))
    assert len(bids) == 60 and (bids["round"] == 2).all()
    width, height = png_size(download(page, page.locator(".dao-welfare .dao-png")))
    assert width > 400 and height > 300
    tab(page, "Dynamics")
    wait_drawn(page, VIEWS["Dynamics"], 2)
    dist = pd.read_csv(io.BytesIO(download(page, page.locator(".dao-csv-distribution"))))
    shares = dist[dist["dao_size"] == "all"].groupby("round")["share"].sum()
    assert shares.tolist() == pytest.approx([1.0, 1.0])
    assert png_size(download(page, page.locator(".dao-by-size .dao-png")))[0] > 400


def test_bad_page_override_shows_a_message_and_logs_it(server, page):
    expect = sync_api.expect
    open_page(page, server.url)
    box = page.get_by_label("Overrides (key=value; ...)")
    box.fill("bogus.key=1")
    box.press("Enter")
    page.get_by_role("button", name="Reset", exact=True).click()
    error = page.locator(".dao-error")
    expect(error).to_contain_text("dao-abm: error: page overrides not applied",
                                  timeout=PAGE_S * 1000)
    expect(error).to_contain_text("bogus")
    wait_drawn(page, OVERVIEW, 0)  # the page still runs (the scenario without the override)
    step(page, 1)
    assert "dao-abm: error: page overrides not applied" in server.log.read_text()


def test_unreadable_scenario_shows_a_message_and_logs_it(servers, page):
    broken = servers["broken"]
    page.goto(broken.url)
    sync_api.expect(page.locator(".dao-error")).to_contain_text(
        "dao-abm: error:", timeout=PAGE_S * 1000)
    sync_api.expect(page.locator(".dao-error")).to_contain_text("cannot read scenario")
    assert "dao-abm: error:" in broken.log.read_text()


def test_side_by_side_runs_two_models_on_one_population(servers, page):
    expect = sync_api.expect
    open_page(page, servers["pair"].url)
    summaries = page.locator(".dao-summary")
    expect(summaries).to_have_count(2, timeout=PAGE_S * 1000)
    for k in (1, 2, 3):
        step(page, k)
    wait_drawn(page, OVERVIEW, 3)
    first, second = summaries.nth(0).inner_text(), summaries.nth(1).inner_text()
    assert "mechanism.preset=crowdfund" in first and "mechanism.preset=dao-vickrey" in second
    digest = re.compile(r"population ([0-9a-f]{8})")
    assert digest.search(first).group(1) == digest.search(second).group(1)
    assert "60 bidders" in first and "60 bidders" in second
    welfare = pd.read_csv(io.BytesIO(download(page, page.locator(".dao-csv-welfare"))))
    runs = dict(list(welfare.groupby("run")))
    assert set(runs) == {"mechanism.preset=crowdfund", "mechanism.preset=dao-vickrey"}
    a, b = runs.values()
    assert a["optimal_welfare"].tolist() == pytest.approx(b["optimal_welfare"].tolist())
    assert a["welfare"].tolist() != pytest.approx(b["welfare"].tolist())


def test_constitution_dao_loads_and_steps(servers, page):
    expect = sync_api.expect
    open_page(page, servers["big"].url)
    expect(page.locator(".dao-summary")).to_contain_text("17,438 bidders")
    wait_drawn(page, ("welfare", "bids"), 0)
    step(page, 1)
    wait_drawn(page, ("welfare", "truthful", "epsilon", "winner", "bids"), 1)


#: The extents [low, high] of a view's x and y axes as drawn (ECharts' own API).
AXES = """(view) => {
  const el = document.querySelector(`.dao-${view} .dao-live-canvas`);
  const modules = Object.values(requirejs.s.contexts._.defined);
  const model = modules.find(m => m && m.getInstanceByDom).getInstanceByDom(el).getModel();
  return ['xAxis', 'yAxis'].map(a => model.getComponent(a, 0).axis.scale.getExtent());
}"""
FANS = ("fan-truthful-share", "fan-approximation-ratio", "fan-max-gain", "fan-revenue",
        "fan-winner-size")


def test_sessions_show_fan_charts_that_step_and_export(servers, page):
    expect = sync_api.expect
    open_page(page, servers["fans"].url)
    wait_drawn(page, OVERVIEW, 0)  # the single-run views show session 0
    expect(page.locator(".dao-command")).to_contain_text("sessions=4")
    tab(page, "Sessions")
    expect(page.locator(".dao-sessions-note")).to_contain_text("4 sessions")
    wait_drawn(page, FANS, 0)
    before = chart(page, "fan-truthful-share").screenshot()
    step(page, 1)
    wait_drawn(page, FANS, 1)
    assert changed(chart(page, "fan-truthful-share"), before), "the fan chart did not change"
    step(page, 2)
    wait_drawn(page, FANS, 2)
    (x_low, x_high), (y_low, y_high) = page.evaluate(AXES, "fan-truthful-share")
    assert (x_low, x_high) == (0, 2) and 0 <= y_low <= y_high <= 1  # bands stack on y
    fan = pd.read_csv(io.BytesIO(download(page, page.locator(".dao-csv-fan-truthful-share"))))
    assert fan["round"].tolist() == [1, 2] and (fan["sessions"] == 4).all()
    assert (fan["q05"] <= fan["q25"]).all() and (fan["q25"] <= fan["median"]).all()
    assert (fan["median"] <= fan["q75"]).all() and (fan["q75"] <= fan["q95"]).all()
    assert png_size(download(page, page.locator(".dao-fan-revenue .dao-png")))[0] > 400
    tab(page, "Overview")  # session 0 of the fans is the run the other views show
    wait_drawn(page, ("truthful",), 2)
    truthful = pd.read_csv(io.BytesIO(download(page, page.locator(".dao-csv-truthful"))))
    assert truthful["truthful_share"].tolist() == pytest.approx(fan["session_0"].tolist())
