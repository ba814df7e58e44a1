"""The browser view at ConstitutionDAO scale (``models/constitution_dao.toml``, 17,438
bidders): how long a Step takes from the click to every chart redrawn, against the same
round without the page.

* ``model_step_17k_ms``: ``DaoAuctionModel.step()`` in this process, mean over rounds 2..21
  (round 1 compiles the numba best response and is left out; rounds 10 and 20 measure
  epsilon, as the scenario asks, and are in).
* ``viz_step_17k_ms``: ``dao-abm viz`` served on 127.0.0.1 and opened in headless Chromium
  (Debian's ``/usr/bin/chromium``, the browser the tests use, driven by Playwright): the
  page's Step button clicked from JavaScript, timed in the page until every chart on the
  open view reports that it drew the new round (``data-drawn``), mean over the same rounds
  2..21. This covers the round itself, the page's render, the websocket and the drawing.
* ``viz_over_model_step``: their ratio (target <= 25).
* ``viz_server_start_s``: ``dao-abm viz`` started to the page being served;
  ``viz_load_s``: the page opened to every chart drawn (round 0), beside
  ``cli_startup_s``: ``dao-abm --help``, the best wall time of fresh processes, measured as
  ``benchmarks/cli.py`` measures it (its functions, when that module is there; it then
  reports ``cli_startup_s`` itself, figures being unique across modules), and
  ``viz_load_over_cli_startup``, their ratio.
"""

from __future__ import annotations

import os
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

#: Figure -> (comparison, threshold) checked by run.py.
TARGETS = {"viz_over_model_step": ("<=", 25.0)}

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "models" / "constitution_dao.toml"
ROUNDS = 20  # timed rounds, after one warm-up round
CLI_REPEATS = 9
CHROMIUM = Path("/usr/bin/chromium")
#: The flags tests/test_viz_browser.py uses (root needs --no-sandbox; no network).
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
#: Click Step, resolve with the milliseconds until every chart has drawn round k.
STEP_JS = """(k) => new Promise((resolve) => {
  const drawn = () => { const c = [...document.querySelectorAll('.dao-live-canvas')];
    return c.length > 0 && c.every((e) => e.dataset.drawn === String(k)); };
  const button = [...document.querySelectorAll('button')]
    .find((b) => b.textContent.trim() === 'Step');
  const t0 = performance.now();
  const watch = new MutationObserver(() => {
    if (drawn()) { watch.disconnect(); resolve(performance.now() - t0); } });
  watch.observe(document.body, {subtree: true, attributes: true, childList: true,
                                characterData: true});
  button.click();
})"""
READY_JS = """() => { const b = [...document.querySelectorAll('button')]
  .find((b) => b.textContent.trim() === 'Step'); return b && !b.disabled; }"""
DRAWN_JS = """() => { const c = [...document.querySelectorAll('.dao-live-canvas')];
  return c.length >= 5 && c.every((e) => e.dataset.drawn === '0'); }"""


def model_step_ms() -> float:
    from dao_abm.model.model import DaoAuctionModel
    from dao_abm.scenario import load_scenario

    model = DaoAuctionModel(load_scenario(SCENARIO))
    model.step()  # warm-up: compiles
    times = []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        model.step()
        times.append(time.perf_counter() - start)
    return 1000 * statistics.fmean(times)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(port: int) -> tuple[subprocess.Popen, float]:
    """``dao-abm viz`` on ``port``; returns it and the seconds until it served the page."""
    command = [*_dao_abm_command(), "viz", str(SCENARIO), "--port", str(port)]
    start = time.perf_counter()
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              stdin=subprocess.DEVNULL, start_new_session=True)
    while time.perf_counter() - start < 180:
        if server.poll() is not None:
            raise RuntimeError(f"dao-abm viz exited with {server.returncode}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5):
                return server, time.perf_counter() - start
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("dao-abm viz did not serve the page within 180 s")


def browse(url: str) -> tuple[float, list[float]]:
    """Seconds to load the page; milliseconds of each timed Step."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM),
                                             args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            start = time.perf_counter()
            page.goto(url)
            page.wait_for_function(DRAWN_JS, timeout=180_000)
            load = time.perf_counter() - start
            steps = []
            for k in range(1, ROUNDS + 2):
                page.wait_for_function(READY_JS, timeout=60_000)
                steps.append(page.evaluate(STEP_JS, k))
            return load, steps[1:]  # round 1 compiles in the server
        finally:
            browser.close()


def cli_startup_s() -> float:
    """``dao-abm --help``: the best wall time of ``CLI_REPEATS`` fresh processes."""
    try:  # one home: benchmarks/cli.py's way of timing a command, when it is there
        from cli import dao_abm_command, wall_time
    except ImportError:
        dao_abm_command, wall_time = _dao_abm_command, _wall_time
    return min(wall_time([*dao_abm_command(), "--help"]) for _ in range(CLI_REPEATS))


def _dao_abm_command() -> list[str]:
    script = Path(sys.executable).with_name("dao-abm")
    return [str(script)] if script.exists() else [sys.executable, "-m", "dao_abm.cli"]


def _wall_time(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return time.perf_counter() - start


def measure() -> dict[str, float]:
    if not CHROMIUM.exists():
        raise RuntimeError(f"{CHROMIUM} is missing (apt-get install -y chromium)")
    cli_s = cli_startup_s()
    model_ms = model_step_ms()
    server, started = start_server(free_port())
    try:
        load, steps = browse(f"http://127.0.0.1:{server.args[-1]}/")
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    viz_ms = statistics.fmean(steps)
    figures = {"model_step_17k_ms": model_ms, "viz_step_17k_ms": viz_ms,
               "viz_over_model_step": viz_ms / model_ms, "viz_server_start_s": started,
               "viz_load_s": load}
    if not (ROOT / "benchmarks" / "cli.py").exists():  # else cli.py reports it
        figures["cli_startup_s"] = cli_s
    return figures | {"viz_load_over_cli_startup": load / cli_s}
