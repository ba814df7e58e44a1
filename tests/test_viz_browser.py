"""``dao-abm viz`` end to end: a real server and a real headless Chromium (Playwright).

Starts ``dao-abm viz`` on a free port of 127.0.0.1 with a small population, opens the page,
checks that the affinity graph and the charts are there, presses Step and checks that the
step counter, the summary and the charts change. Needs Debian's Chromium at
``/usr/bin/chromium`` (installed here with apt-get when running as root; Playwright's own
browser download is never used) and the ``playwright`` package (the ``dev`` extra); the
test is skipped, saying why, only where neither can be had.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

sync_api = pytest.importorskip(
    "playwright.sync_api", reason="the playwright package is missing (pip install -e '.[dev]')")

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
SERVER_START_S = 90
PAGE_S = 45


def chromium() -> Path:
    """Debian's Chromium, installed with apt-get if missing and we are root (else skip)."""
    if CHROMIUM.exists():
        return CHROMIUM
    if os.name != "posix" or os.geteuid() != 0 or shutil.which("apt-get") is None:
        pytest.skip(f"{CHROMIUM} is missing and cannot be installed here "
                    "(needs root and apt-get: apt-get install -y chromium)")
    env = os.environ | {"DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "-q", "--no-install-recommends", "chromium"]
    for command in (install, ["apt-get", "update", "-q"], install):
        try:
            done = subprocess.run(command, env=env, capture_output=True, timeout=600)
        except subprocess.TimeoutExpired:
            break
        if command is install and done.returncode == 0 and CHROMIUM.exists():
            return CHROMIUM
    pytest.skip(f"{CHROMIUM} is missing and apt-get could not install it")


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


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """``dao-abm viz`` on a free port; stopped (with its solara child) at the end."""
    port = free_port()
    log = tmp_path_factory.mktemp("viz") / "server.log"
    script = Path(sys.executable).with_name("dao-abm")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "dao_abm.cli"]
    command += ["viz", "--host", "127.0.0.1", "--port", str(port),
                "--set", "population.n_members=60"]
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        url = f"http://127.0.0.1:{port}/"
        wait_until_served(url, process, log)
        yield url
    finally:
        os.killpg(process.pid, signal.SIGTERM)  # its own session: dao-abm and solara
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@pytest.fixture
def page(tmp_path):
    executable = chromium()
    with sync_api.sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path / "profile"), executable_path=str(executable), args=CHROMIUM_ARGS,
            headless=True, viewport={"width": 1400, "height": 1000})
        try:
            yield context.new_page()
        finally:
            context.close()


def loaded(image) -> bool:
    return image.evaluate("img => img.complete && img.naturalWidth > 0")


def changed(locator, before: bytes, timeout: float = 20) -> bool:
    """Whether ``locator``'s pixels differ from ``before`` within ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if locator.screenshot() != before:
            return True
        time.sleep(0.25)
    return False


def test_step_redraws_the_page(server, page, tmp_path):
    expect = sync_api.expect
    page.goto(server)
    counter = page.get_by_text(re.compile(r"^Step: \d+$"))
    expect(counter).to_have_text("Step: 0", timeout=PAGE_S * 1000)
    figures = {name: page.locator(f"img.dao-{name}")
               for name in ("graph", "bids", "welfare", "truthful")}
    for figure in figures.values():
        expect(figure).to_be_visible(timeout=PAGE_S * 1000)
        assert loaded(figure)
    summary = page.locator(".dao-summary")
    expect(summary).to_contain_text("60 bidders")
    expect(summary).to_contain_text("round 0")
    for label in ("Mechanism preset", "Learning rule", "Members", "Seed"):
        expect(page.get_by_text(label, exact=True).first).to_be_visible()
    before = {name: figure.screenshot() for name, figure in figures.items()}

    page.get_by_role("button", name="Step", exact=True).click()

    expect(counter).to_have_text("Step: 1", timeout=PAGE_S * 1000)
    expect(summary).to_contain_text("round 1")
    expect(summary).to_contain_text("OPT/welfare")
    assert changed(figures["welfare"], before["welfare"]), "welfare chart did not change"
    assert changed(figures["truthful"], before["truthful"]), "truthfulness chart did not change"
    assert changed(figures["bids"], before["bids"]), "bids chart did not change"
    shot = tmp_path / "dao-abm-viz.png"
    page.screenshot(path=str(shot))
    assert shot.stat().st_size > 10_000
