"""The dashboard for real: `finops dashboard --tenant` on a free loopback port, opened in headless
Chromium; the Overview chart is drawn, the tenant's total cost is on the page, nothing is fetched
from anywhere but the app, and the screenshot is saved (the README's, with
FINOPS_DASHBOARD_SCREENSHOT=docs/dashboard-overview.png)."""

from __future__ import annotations

import json
import os
import shutil
import struct
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests

from finops_platform_tests.dashboard.browser import chromium, chromium_path
from finops_platform_tests.dashboard.conftest import SEPTEMBER, Generated
from finops_platform_tests.dashboard.shown import money
from finops_platform_tests.support.dagster_dev import (
    free_port,
    signal_group,
    stop_process_group,
    wait_until,
)

SCREENSHOT_ENV = "FINOPS_DASHBOARD_SCREENSHOT"
TENANT = "tenant_alpha"
# `finops dashboard` exactly as the CLI will run it once registered on the `finops` group.
LAUNCH = (
    "from finops_platform.cli import main; from finops_platform.dashboard.cli import dashboard; "
    "main.add_command(dashboard); main()"
)
CHARTS_DRAWN = """(() => {
  const charts = Array.from(document.querySelectorAll('[data-testid="stVegaLiteChart"]'));
  return charts.length >= 2 && charts.every(chart => {
    const drawing = chart.querySelector('canvas, svg');
    return drawing !== null && drawing.getBoundingClientRect().width > 100;
  });
})()"""
# Idle: no "Running..." status, no placeholder left, and every shown table drawn (a canvas).
IDLE = """(() => {
  const busy = '[data-testid="stStatusWidget"], [data-testid="stSkeleton"]';
  if (document.querySelector(busy) !== null) return false;
  const tables = Array.from(document.querySelectorAll('[data-testid="stDataFrame"]'))
    .filter(table => table.closest('[data-testid="stExpander"]') === null);  // shown
  return tables.length >= 2 && tables.every(table => {
    const canvas = table.querySelector('canvas');
    return canvas !== null && canvas.getBoundingClientRect().width > 100;
  });
})()"""
TOTALS_SQL = """
SELECT sum(unblended_cost) AS unblended, sum(amortized_cost) AS amortized
FROM cost_daily WHERE year = {year} AND month = {month}
"""


@pytest.fixture
def browser_binary() -> Path:
    path = chromium_path()
    if path is None:
        reason = "Debian's chromium is not installed (apt-get install -y chromium)"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    return path


def healthy(url: str, process: subprocess.Popen, log: Path) -> bool:
    if process.poll() is not None:
        pytest.fail(f"the dashboard exited with {process.returncode}:\n{log.read_text()}")
    try:
        return requests.get(f"{url}/_stcore/health", timeout=2).text == "ok"
    except requests.ConnectionError:
        return False


@contextmanager
def running_dashboard(generated: Generated, tmp_path: Path, tenant: str) -> Iterator[str]:
    """`finops dashboard --tenant` in its own process group; stopped by that group's id."""
    port = free_port()
    log = tmp_path / "dashboard.log"
    command = [sys.executable, "-c", LAUNCH, "--config", str(generated.config), "--env", "dev"]
    with log.open("wb") as out:
        process = subprocess.Popen(
            [*command, "dashboard", "--tenant", tenant, "--port", str(port)],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until("the dashboard to answer", lambda: healthy(url, process, log), 90)
        yield url
    except BaseException:
        print(f"----- dashboard log -----\n{log.read_text(errors='replace')}")
        raise
    finally:
        stop_process_group(process)
        assert not signal_group(process.pid, 0), "a dashboard process outlived its stop"


def png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", header[16:24])


def test_overview_in_headless_chromium(browser_binary, generated: Generated, tmp_path: Path):
    (totals,) = generated.query(TENANT, TOTALS_SQL.format(year=SEPTEMBER.year, month=9))
    amortized, unblended = money(totals["amortized"]), money(totals["unblended"])
    with (
        running_dashboard(generated, tmp_path, TENANT) as url,
        chromium(tmp_path / "profile") as browser,
    ):
        page = browser.new_page()
        page.send("Page.navigate", url=url)
        page.wait_for(CHARTS_DRAWN, timeout=90)
        text = page.wait_for(
            f"document.body.innerText.includes({json.dumps(amortized)}) && document.body.innerText",
            timeout=30,
        )
        page.wait_for(IDLE, timeout=30)
        screenshot = page.screenshot(tmp_path / "dashboard-overview.png")
        requested = browser.requested_urls()
    assert "Overview: tenant_alpha, 2026-09" in text
    assert amortized in text and unblended in text
    assert "tenant_beta" not in text and "tenant_stale" not in text
    assert png_size(screenshot) == (1400, 1000)
    assert screenshot.stat().st_size > 30_000  # a drawn page, not a blank one
    local = (url, url.replace("http://", "ws://"), "data:", "blob:", "about:")
    assert requested and all(u.startswith(local) for u in requested), [
        u for u in requested if not u.startswith(local)
    ]
    if target := os.environ.get(SCREENSHOT_ENV):
        shutil.copyfile(screenshot, target)
