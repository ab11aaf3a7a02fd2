"""End-to-end: the classroom app in real headless Chromium (Debian's /usr/bin/chromium, driven by
Playwright; no browser download). Solara's front-end files are served by the app from the npm packages
that `make` unpacks (SOLARA_ASSETS_PROXY_CACHE_DIR); the test fails if the page asks for anything that is
not on 127.0.0.1.

The test plays Ukraine in classroom/jan2022: three rounds (the U.S., NATO and Russia propose; Ukraine
rejects each), then Ukraine moves the enlargement slider and proposes. It checks that the offer table
and the charts change, and saves screenshots (set CLASSROOM_SCREENSHOT_DIR=docs/figures to refresh the
ones in the lesson plan). Skipped where Chromium or the assets are missing, unless
CLASSROOM_BROWSER_TEST=required (as in .ci/run).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
ROOT = Path(__file__).resolve().parent.parent
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]


def _missing() -> str:
    assets = os.environ.get("SOLARA_ASSETS_PROXY_CACHE_DIR", "")
    if not Path(CHROMIUM).exists():
        return f"{CHROMIUM} not installed (apt-get install chromium)"
    if not assets or not (Path(assets) / "@widgetti" / "solara-vuetify-app@10.1.1").exists():
        return "Solara assets missing: run via `make test` (tools/fetch-solara-assets)"
    try:
        import playwright  # noqa: F401  (is it installed?)
    except ImportError:
        return "playwright not installed"
    return ""


@pytest.fixture(scope="module")
def server():
    reason = _missing()
    if reason:
        if os.environ.get("CLASSROOM_BROWSER_TEST") == "required":
            pytest.fail(f"browser test required but {reason}")
        pytest.skip(reason)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    solara = Path(sys.executable).with_name("solara")
    log = open(ROOT / ".cache" / "classroom-test-server.log", "w") if (ROOT / ".cache").exists() else subprocess.DEVNULL
    process = subprocess.Popen([str(solara), "run", str(ROOT / "sim/classroom/app.py"), "--host", "127.0.0.1",
                                "--port", str(port), "--production"], cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.time() + 90
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    break
        except OSError:
            pass
        if process.poll() is not None or time.time() > deadline:
            process.kill()
            pytest.fail(f"solara run did not serve {url} (see .cache/classroom-test-server.log)")
        time.sleep(0.5)
    yield url
    process.terminate()
    process.wait(timeout=20)


@pytest.fixture
def page(server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        tab = browser.new_page(viewport={"width": 1500, "height": 1100})
        tab.outside = []  # requests that left 127.0.0.1
        tab.errors = []
        tab.on("request", lambda r: tab.outside.append(r.url)
               if not r.url.startswith(("http://127.0.0.1", "ws://127.0.0.1", "data:", "blob:")) else None)
        tab.on("pageerror", lambda e: tab.errors.append(str(e)))
        tab.goto(server)
        tab.get_by_text("Export report").wait_for(timeout=90_000)
        yield tab
        browser.close()


def _images(tab) -> list[str]:
    return tab.locator("img").evaluate_all("els => els.map(e => e.src)")


def _shoot(tab, tmp_path: Path, name: str) -> None:
    tab.screenshot(path=str(tmp_path / name))
    target = os.environ.get("CLASSROOM_SCREENSHOT_DIR")
    if target:
        Path(target).mkdir(parents=True, exist_ok=True)
        shutil.copy(tmp_path / name, Path(target) / name)


def test_three_rounds_then_a_proposal_as_ukraine(page, tmp_path):
    page.locator(".v-select").filter(has_text="Play as").click()
    page.get_by_role("option", name="ukraine").click()
    page.get_by_text("You now play ukraine").wait_for()
    tables = []
    for round_number, proposer in enumerate(["usa", "nato", "russia"], start=1):
        page.get_by_role("button", name="Step").click()
        page.get_by_text(f"{proposer} offers you this bundle").wait_for()
        table = page.locator("table.offer-table")
        assert "your answer?" in table.inner_text()
        tables.append(table.inner_text())
        page.get_by_role("button", name="Reject").click()
        page.get_by_role("button", name="Reject").wait_for(state="detached")
        page.get_by_text(f"Round {round_number + 1} of 20").wait_for()
    assert len(set(tables)) == 3  # each round put a different offer on the table
    page.wait_for_timeout(500)
    _shoot(page, tmp_path, "classroom_after_three_rounds.png")
    charts_before = _images(page)
    table_before = page.locator("table.offer-table").inner_text()

    page.get_by_role("button", name="Step").click()
    page.get_by_role("button", name="Propose").wait_for()
    assert "likely" in page.locator("table.seat-view").inner_text()
    # enlargement slider (discrete): from Ukraine's ideal (100, membership plan) down one level
    page.locator(".v-window [role=slider]").first.focus()  # the seat panel's first slider: enlargement
    page.keyboard.press("ArrowLeft")
    page.get_by_text("75 — open door").first.wait_for()
    _shoot(page, tmp_path, "classroom_propose.png")
    page.get_by_role("button", name="Propose").click()
    page.get_by_text("Offer of round 4 by ukraine").wait_for()
    table_after = page.locator("table.offer-table").inner_text()
    assert table_after != table_before and "ukraine\tproposer" in table_after
    page.wait_for_function("n => document.querySelectorAll('img').length >= n", arg=len(charts_before))
    page.wait_for_timeout(500)
    assert _images(page) != charts_before  # the offers and utility charts were redrawn
    _shoot(page, tmp_path, "classroom_after_proposal.png")
    assert page.outside == [], f"fetched from outside 127.0.0.1: {page.outside[:3]}"
    assert not [e for e in page.errors if "usermeta" not in e], page.errors


def test_two_tabs_do_not_share_a_model(page, server):
    page.get_by_role("button", name="Step").click()
    page.get_by_text("Offer of round 1 by usa").wait_for()
    second = page.context.browser.new_page()  # a second tab, its own session
    second.goto(server)
    second.get_by_text("Export report").wait_for(timeout=90_000)
    assert second.get_by_text("Round 1 of 20").count() == 1
    assert second.get_by_text("none yet").count() == 1
    second.close()
