"""End-to-end: the classroom app in real headless Chromium (Debian's /usr/bin/chromium, driven by
Playwright; no browser download), at a classroom laptop's 1366×768. Solara's front-end files are
served by the app from the npm packages that `make` unpacks (SOLARA_ASSETS_PROXY_CACHE_DIR); the
test fails if the page asks for anything that is not on 127.0.0.1.

The lesson plan's controls, pressed in the order a teacher would: Reset on a fresh tab; a scenario
change (the page says "press Reset") + Reset; a seat switch; ▶ Play stopping at the student's turn;
Step while an answer is pending; Reject, Reject, Reject, then a proposal built with a slider; Export
mid-game; a seat switch mid-game; a game played to its end with ▶ Play (paused and resumed on the
way), exported and restarted with Reset. It also checks that the charts and Propose are visible without scrolling, that the charts are
shown at their pixel size (15 px text), and that the server log has no traceback or cookie warning.
The same controls at a phone's 390x844, a laptop's 1366x768 and a projector's 1920x1080 (each visible,
inside the screen and clickable; screenshots in the test's tmp_path), and ten pages playing and exporting at
once into a class folder of their own, which the class debrief pools (slow).
Screenshots: set CLASSROOM_SCREENSHOT_DIR=docs/figures to refresh the lesson plan's. Skipped where
Chromium or the assets are missing, unless CLASSROOM_BROWSER_TEST=required (as in CI).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.support import REPO as ROOT
from tests.support import experiment
from tests.support.browser import ARGS, CHROMIUM, free_port, require_browser

pytestmark = [pytest.mark.browser, pytest.mark.subprocess]  # a Solara server, and Chromium

VIEWPORT = {"width": 1366, "height": 768}
CLASS = "e2e-class"
WARMUP = "Classroom warm-up: two actors, two issues, crossed saliences"  # the menu's titles
JAN2022 = "Classroom: Russia vs U.S./NATO/Ukraine, Jan 2022 (4 parties, 11 issues)"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    yield from _serve(tmp_path_factory, CLASS)


@pytest.fixture(scope="module")
def load_server(tmp_path_factory):
    """A server of its own for the load test: its class folder holds only the load test's exports."""
    yield from _serve(tmp_path_factory, "load-class")


def _serve(tmp_path_factory, class_name: str):
    """apps.serve on a free port of 127.0.0.1, as ``make classroom CLASS=<class_name>`` starts it."""
    require_browser()
    port = free_port()
    results = tmp_path_factory.mktemp("classroom-results")
    log_path = tmp_path_factory.mktemp("classroom-log") / "server.log"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "CLASSROOM_CLASS": class_name, "CLASSROOM_RESULTS": str(results),
           "SOLARA_THEME_SHOW_BANNER": "false"}
    with open(log_path, "w") as log:
        process = subprocess.Popen([sys.executable, "-m", "apps.serve", "--host", "127.0.0.1",  # as make classroom
                                    "--port", str(port)], cwd=ROOT, stdout=log,
                                   stderr=subprocess.STDOUT, env=env)
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
            pytest.fail(f"solara run did not serve {url}: {log_path.read_text()[-2000:]}")
        time.sleep(0.5)
    yield {"url": url, "results": results, "log": log_path, "class": results / class_name}
    process.terminate()
    process.wait(timeout=20)


@pytest.fixture
def page(server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        tab = browser.new_page(viewport=VIEWPORT)
        tab.outside = []  # requests that left 127.0.0.1
        tab.errors = []
        tab.on("request", lambda r: tab.outside.append(r.url)
               if not r.url.startswith(("http://127.0.0.1", "ws://127.0.0.1", "data:", "blob:")) else None)
        tab.on("pageerror", lambda e: tab.errors.append(str(e)))
        tab.goto(server["url"])
        tab.get_by_role("button", name="Export report").wait_for(timeout=90_000)
        yield tab
        browser.close()


def _shoot(tab, tmp_path: Path, name: str) -> None:
    tab.wait_for_timeout(400)
    tab.screenshot(path=str(tmp_path / name))
    target = os.environ.get("CLASSROOM_SCREENSHOT_DIR")
    if target:
        Path(target).mkdir(parents=True, exist_ok=True)
        shutil.copy(tmp_path / name, Path(target) / name)


def _choose(tab, label: str, option: str) -> None:
    tab.locator(".v-select").filter(has_text=label).click()
    choice = tab.get_by_role("option", name=option, exact=True)
    choice.click()
    choice.wait_for(state="hidden")  # the menu has closed: the next click lands on the page
    tab.locator(".v-select").filter(has_text=label).filter(has_text=option).wait_for()


def _status(tab) -> str:
    return tab.locator(".classroom-status").inner_text()


def _wait_status(tab, text: str, timeout: float = 30_000) -> None:
    try:
        tab.locator(".classroom-status", has_text=text).wait_for(timeout=timeout)
    except Exception:
        target = os.environ.get("CLASSROOM_SCREENSHOT_DIR")
        if target:  # what the page showed instead
            tab.screenshot(path=str(Path(target) / "classroom_failure.png"))
        raise


def _in_view(tab, locator) -> bool:
    box = locator.bounding_box()
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= VIEWPORT["height"] + 1


#: A click that reaches a button in the instant Solara mounts or unmounts it finds no handler: ipyvue's
#: ``_fire_event`` raises ``KeyError: 'click'`` on the server and the click is dropped (reacton registers a
#: button's handler in an effect after the widget exists, and removes it before the widget goes). Ten pages
#: clicking while ▶ Play re-renders them hit that window under load; any other traceback fails the test.
DROPPED_CLICK = re.compile(r"_fire_event.*?\nKeyError: 'click'", re.S)


def _server_tracebacks(log: str) -> list[str]:
    """The tracebacks of a server log other than a dropped click's (:data:`DROPPED_CLICK`)."""
    chunks = log.split("Traceback (most recent call last):")[1:]
    return [chunk[-600:] for chunk in chunks if not DROPPED_CLICK.search(chunk.split("\nTraceback")[0])]


def _no_traceback(tab) -> None:
    assert tab.get_by_text("Traceback").count() == 0


def test_a_lesson_with_every_control(page, server, tmp_path):
    from playwright.sync_api import expect

    tab = page
    button = lambda name: tab.get_by_role("button", name=name, exact=True)  # noqa: E731
    # Reset on a fresh tab (crashed with Mesa's SolaraViz)
    button("Reset").click()
    tab.get_by_text("New game started.").wait_for()
    _wait_status(tab, "Round 1 of 20.")
    _no_traceback(tab)
    # a scenario change waits for Reset, and says so
    # (the menus show titles: the scenario's name, the protocol in words; the file names stay behind them)
    _choose(tab, "Scenario", WARMUP)
    tab.get_by_text(f'Press Reset to start this game: scenario "{WARMUP}".').wait_for()
    assert "United States" in _status(tab)  # still the January 2022 game
    button("Reset").click()
    tab.get_by_text("Press Reset to start this game").wait_for(state="detached")
    _wait_status(tab, "Next to propose: East")
    _choose(tab, "Protocol", "Exchange (trading issues)")
    tab.get_by_text('Press Reset to start this game: protocol "Exchange (trading issues)".').wait_for()
    button("Reset").click()
    tab.get_by_text("Play as: needs the offers protocol (this game: exchange).").wait_for()
    tab.get_by_text("Press Reset to start this game").wait_for(state="detached")
    _choose(tab, "Protocol", "Offers and answers (play a seat)")
    _choose(tab, "Scenario", JAN2022)
    tab.get_by_text("Press Reset to start this game").wait_for()
    button("Reset").click()
    _wait_status(tab, "Next to propose: United States")
    # the seat, then ▶ Play stops at the student's turn
    _choose(tab, "Play as", "Ukraine")
    tab.get_by_text("Now you play Ukraine.").wait_for()
    button("▶ Play").click()
    button("Reject").wait_for(timeout=30_000)
    _wait_status(tab, "Your answer: United States has made an offer")
    tab.get_by_text("Paused: it is your turn.").wait_for()
    expect(button("▶ Play")).to_be_disabled()
    button("Step").click()  # Step while an answer is pending: a message, nothing else
    tab.get_by_text("Waiting for you: Accept or Reject the offer on the table.").wait_for()
    _wait_status(tab, "Round 1 of 20.")
    tables = []
    for round_number, proposer in enumerate(["United States", "NATO", "Russia"], start=1):
        if round_number > 1:
            button("Step").click()
        _wait_status(tab, f"Round {round_number} of 20. Your answer: {proposer} has made an offer")
        table = tab.locator("table.offer-table")
        expect(table).to_contain_text("your answer?")  # the table follows the status line in the next render
        tables.append(table.inner_text())
        button("Reject").click()
        button("Reject").wait_for(state="detached")
        _wait_status(tab, f"Round {round_number + 1} of 20.")
    assert len(set(tables)) == 3  # each round put a different offer on the table
    tab.locator("img.utility-chart").wait_for()
    _shoot(tab, tmp_path, "classroom_after_three_rounds.png")
    for chart in ("img.utility-chart", "img.issues-chart"):  # readable on a projector, no scrolling
        image = tab.locator(chart)
        assert _in_view(tab, image), chart
        natural, shown = image.evaluate("i => [i.naturalWidth, i.getBoundingClientRect().width]")
        assert abs(natural - shown) < 1, (chart, natural, shown)  # shown at pixel size: 11 pt = 15 px text
    # a proposal: the enlargement slider down one level, then Propose (visible without scrolling)
    button("Step").click()
    propose = button("Propose this deal")
    propose.wait_for()
    assert _in_view(tab, propose) and _in_view(tab, tab.locator("img.utility-chart"))
    assert "likely" in tab.locator("table.seat-view").inner_text()
    tab.locator(".classroom-scroll [role=slider]").first.focus()  # NATO enlargement (discrete)
    tab.keyboard.press("ArrowLeft")
    tab.get_by_text("75 — open door").first.wait_for()
    tab.locator(".classroom-scroll").evaluate("panel => panel.scrollTop = 0")
    assert _in_view(tab, propose) and _in_view(tab, tab.locator(".classroom-scroll [role=slider]").first)
    _shoot(tab, tmp_path, "classroom_propose.png")
    charts_before = tab.locator("img.utility-chart").get_attribute("src")
    propose.click()
    tab.get_by_text("Offer of round 4 by Ukraine (you)").wait_for()
    tab.get_by_text("Round 4: you proposed a deal").wait_for()
    tab.wait_for_function("src => document.querySelector('img.utility-chart').src !== src", arg=charts_before)
    _shoot(tab, tmp_path, "classroom_after_proposal.png")
    # Export mid-game: labelled in progress, in the class folder
    button("Export report").click()
    tab.get_by_text("Report of the game in progress at round 5 written to").wait_for(timeout=60_000)
    reports = list((server["results"] / CLASS).glob("*_ukraine_*/report.html"))  # <time>_<seat>_<tab>
    assert len(reports) == 1 and "in progress at round 5" in reports[0].read_text()
    # a seat switch mid-game: selector and panel agree
    _choose(tab, "Play as", "Russia")
    tab.get_by_text("New game: you play Russia.").wait_for()
    assert tab.locator(".v-select").filter(has_text="Play as").inner_text().strip().endswith("Russia")
    _wait_status(tab, "Round 1 of 20.")
    # a whole game with ▶ Play, exported at the end and restarted
    _choose(tab, "Play as", "nobody (watch the model agents)")
    _choose(tab, "Scenario", "Classroom: deadline pressure - a short deadline and a costlier war for Russia")
    tab.get_by_text("Press Reset to start this game").wait_for()
    button("Reset").click()
    _wait_status(tab, "Round 1 of 8.")
    button("▶ Play").click()
    _wait_status(tab, "Round 3 of 8.")
    button("❚❚ Pause").click()  # Pause holds the game where it is
    button("▶ Play").wait_for()
    paused = _status(tab)
    tab.wait_for_timeout(2500)
    assert _status(tab) == paused and "The game is over" not in paused
    button("▶ Play").click()
    _wait_status(tab, "The game is over after round", timeout=60_000)
    expect(button("▶ Play")).to_be_disabled()
    expect(button("Step")).to_be_disabled()
    _no_traceback(tab)
    button("Export report").click()
    tab.get_by_text("Report of the finished game written to").wait_for(timeout=60_000)
    button("Export report").click()  # the same game again (a double click): nothing new
    tab.get_by_text("This game, as it stands, is already written to").wait_for(timeout=60_000)
    _choose(tab, "Reading level", "school")  # then at school level: the game again, in school words
    button("Export report").click()
    tab.get_by_text("Report of the finished game written to").wait_for(timeout=60_000)
    finished = sorted(p.read_text() for p in (server["results"] / CLASS).glob("*_nobody_*/report.html"))
    assert len(finished) == 2 and ["Words to know" in text for text in finished].count(True) == 1
    _shoot(tab, tmp_path, "classroom_school_export.png")
    _choose(tab, "Reading level", "university")
    button("Reset").click()
    _wait_status(tab, "Round 1 of 8.")
    expect(button("▶ Play")).to_be_enabled()
    expect(button("Step")).to_be_enabled()
    assert tab.get_by_text("Mesa").count() == 0 and tab.get_by_text("Page 0").count() == 0
    assert tab.outside == [], f"fetched from outside 127.0.0.1: {tab.outside[:3]}"
    assert not tab.errors, tab.errors
    log = server["log"].read_text()
    assert "Traceback" not in log and "samesite" not in log, log[-2000:]


def test_two_tabs_do_not_share_a_game(page, server):
    page.get_by_role("button", name="Step", exact=True).click()
    page.get_by_text("Offer of round 1 by United States").wait_for()
    second = page.context.browser.new_page(viewport=VIEWPORT)  # a second tab, its own session
    second.goto(server["url"])
    second.get_by_role("button", name="Export report").wait_for(timeout=90_000)
    _wait_status(second, "Round 1 of 20.")
    assert second.get_by_text("Offer on the table: none yet").count() == 1
    second.close()


# ---- every screen: a phone, a laptop, a projector ---------------------------------------------------------
SCREENS = {"phone": {"width": 390, "height": 844}, "laptop": {"width": 1366, "height": 768},
           "projector": {"width": 1920, "height": 1080}}


BROKEN_WORDS = """() => {  // words of the tables drawn on more than one line (a break inside the word)
  const broken = [];
  for (const cell of document.querySelectorAll('.classroom-table td, .classroom-table th')) {
    const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      for (const m of node.data.matchAll(/[^\\s\\/-]+/g)) {  // a line may break at a space, a slash, a hyphen
        const range = document.createRange();
        range.setStart(node, m.index);
        range.setEnd(node, m.index + m[0].length);
        const lines = new Set(Array.from(range.getClientRects()).filter(r => r.width > 0).map(r => Math.round(r.top)));
        if (lines.size > 1) broken.push(m[0]);
      }
    }
  }
  return broken;
}"""


def _press(tab, locator, size: dict) -> None:
    """Click a control the way a person would: Playwright scrolls it into view and refuses to click what
    is hidden, disabled or covered; and it must lie within the screen's width (nothing off to the side)."""
    from playwright.sync_api import Error

    for attempt in range(3):  # the page may redraw the control between finding and scrolling to it
        try:
            locator.scroll_into_view_if_needed()
            box = locator.bounding_box()
            break
        except Error:
            if attempt == 2:
                raise
            tab.wait_for_timeout(300)
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= size["width"] + 1, box
    locator.click()


@pytest.mark.parametrize("screen", list(SCREENS))
def test_every_control_of_the_lesson_plan_on_every_screen(server, tmp_path, screen):
    """The lesson plan's controls, in a teacher's order, at 390x844, 1366x768 and 1920x1080: each is
    visible, inside the screen and clickable (screenshots in tmp_path)."""
    from playwright.sync_api import expect, sync_playwright

    size = SCREENS[screen]
    shots = iter(range(1, 100))

    def shoot(name: str) -> None:
        tab.wait_for_timeout(300)
        tab.screenshot(path=str(tmp_path / f"{screen}-{next(shots):02d}-{name}.png"))

    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        tab = browser.new_page(viewport=size)
        errors = []
        tab.on("pageerror", lambda e: errors.append(str(e)))
        tab.goto(server["url"])
        button = lambda name: tab.get_by_role("button", name=name, exact=True)  # noqa: E731
        phone = screen == "phone"
        if phone:  # the first render, before the page knows its width, has Reset/Step/Play in the sidebar too
            tab.locator(".classroom-narrow").wait_for(timeout=90_000)
        button("Step").wait_for(timeout=90_000)
        _wait_status(tab, "Round 1 of 20.")
        drawer = tab.locator(".v-navigation-drawer")

        def sidebar(open_: bool) -> None:
            """On a phone the sidebar is a menu: open it with the app bar's button, close it by tapping beside it."""
            if not phone:
                return
            if open_:
                tab.locator(".v-app-bar .v-btn").first.click()
                expect(drawer).to_have_class(re.compile("v-navigation-drawer--open"))
            else:
                tab.mouse.click(size["width"] - 10, size["height"] // 2)
                expect(drawer).not_to_have_class(re.compile("v-navigation-drawer--open"))
            tab.wait_for_timeout(300)

        if phone:  # closed at first, so that it does not cover the page
            expect(drawer).not_to_have_class(re.compile("v-navigation-drawer--open"))
        shoot("opened")
        if screen == "laptop":  # before the first chart, the table of what each party wants has the page's width
            table, main = tab.locator("table.bundle-table"), tab.locator(".classroom-page")
            assert table.bounding_box()["width"] > 0.9 * main.bounding_box()["width"]
        menu = tab.locator(".v-navigation-drawer .v-select__selection").first  # the Scenario menu's title
        size_of = lambda locator: locator.evaluate("e => getComputedStyle(e).fontSize")  # noqa: E731
        if screen == "projector":  # projector mode is on by itself at 1920 px: larger type, the sidebar's too
            expect(tab.get_by_role("switch", name="Projector mode (larger text and charts)")).to_be_checked()
            assert size_of(tab.locator(".classroom-status")) == "26px"
            assert size_of(menu) == "21px" and size_of(tab.locator(".v-navigation-drawer .v-card__title").first) == "28px"
        elif screen == "laptop":
            assert size_of(menu) == "16px"
        if not phone:  # the scenario's long title wraps in its menu instead of widening the sidebar
            assert "Classroom: Russia vs U.S./NATO/Ukraine" in menu.inner_text()
            assert drawer.bounding_box()["width"] <= 401, drawer.bounding_box()
        assert tab.evaluate(BROKEN_WORDS) == []  # no word broken inside ("membershi p plan")
        # the game's settings and the seat (sidebar)
        sidebar(True)
        for label in ("Scenario", "Protocol"):
            assert tab.locator(".v-select").filter(has_text=label).is_visible()
        assert tab.get_by_label("Seed (same seed, same game)").is_visible()
        _choose(tab, "Play as", "Ukraine")
        tab.get_by_text("Now you play Ukraine.").wait_for()
        sidebar(False)
        shoot("seat")
        _press(tab, button("Reset"), size)
        tab.get_by_text("New game started.").wait_for()
        # ▶ Play stops at the student's turn; Reject, Step, Accept, Step, Reject
        _press(tab, button("▶ Play"), size)
        button("Reject").wait_for(timeout=30_000)
        shoot("answer")
        _press(tab, button("Reject"), size)
        _wait_status(tab, "Round 2 of 20.")
        _press(tab, button("Step"), size)
        button("Accept").wait_for(timeout=30_000)
        _press(tab, button("Accept"), size)
        _wait_status(tab, "Round 3 of 20.")
        _press(tab, button("Step"), size)
        _press(tab, button("Reject"), size)
        _wait_status(tab, "Round 4 of 20.")
        # a proposal: a slider, then Propose
        _press(tab, button("Step"), size)
        propose = button("Propose this deal")
        propose.wait_for(timeout=30_000)
        slider = tab.locator(".classroom-scroll [role=slider]").first
        slider.wait_for(state="attached")
        tab.wait_for_timeout(300)  # the panel has settled
        slider.scroll_into_view_if_needed()
        slider.focus()
        tab.keyboard.press("ArrowLeft")
        tab.get_by_text("75 — open door").first.wait_for()
        bubble = tab.locator(".classroom-scroll .v-slider__thumb-label").first  # the value, not the step's number
        assert bubble.inner_text().strip() == "75", bubble.inner_text()
        shoot("propose")
        _press(tab, propose, size)
        tab.get_by_text("Round 4: you proposed a deal").wait_for(timeout=30_000)
        tab.wait_for_timeout(500)  # the charts of round 4 have replaced those of round 3
        for chart in ("img.utility-chart", "img.issues-chart"):
            tab.locator(chart).wait_for()
            tab.locator(chart).scroll_into_view_if_needed()
            box = tab.locator(chart).bounding_box()
            assert box is not None and box["x"] + box["width"] <= size["width"] + 1, (chart, box)
        if screen == "projector":  # the charts are drawn larger, still shown at their pixel size
            natural, shown = tab.locator("img.utility-chart").evaluate(
                "i => [i.naturalWidth, i.getBoundingClientRect().width]")
            assert natural == 742 and abs(natural - shown) < 1
        assert tab.evaluate(BROKEN_WORDS) == []
        shoot("proposed")
        # the other tabs
        for name in ("Every issue by round", "Tune the actors", "What the numbers mean", "Negotiate"):
            _press(tab, tab.get_by_role("tab", name=name), size)
        tab.locator("img.utility-chart").wait_for()
        # Export, its download, then Reset
        sidebar(True)
        _press(tab, button("Export report"), size)
        tab.get_by_text("Report of the game in progress at round 5 written to").wait_for(timeout=90_000)
        tab.get_by_text("Download the report").wait_for()
        shoot("exported")
        # the sidebar's lines do not run into each other (the Export button wrapped beside its sentence, and on
        # the projector the Round limit label touched the Seed field)
        gap = lambda upper, lower: lower.bounding_box()["y"] - sum(upper.bounding_box()[k] for k in ("y", "height"))  # noqa: E731
        assert gap(tab.get_by_text("Writes the game's report"), button("Export report")) >= 0, screen
        seed_gap = gap(tab.locator(".v-input").filter(has_text="Seed (same seed"), tab.get_by_text("Round limit:"))
        assert seed_gap >= 4, (screen, seed_gap)  # 6 px on a phone and a laptop, 14 on the projector (it was 0)
        sidebar(False)
        _press(tab, button("Reset"), size)
        tab.get_by_text("New game started.").wait_for()
        _wait_status(tab, "Round 1 of 20.")
        shoot("reset")
        assert tab.get_by_text("Traceback").count() == 0
        assert not errors, errors
        browser.close()
    target = os.environ.get("CLASSROOM_SCREENSHOT_DIR")
    if target:
        for shot in tmp_path.glob(f"{screen}-*.png"):
            shutil.copy(shot, Path(target) / shot.name)


@pytest.mark.slow
def test_ten_pages_play_and_export_at_once(load_server, tmp_path):
    """A class's load: 10 pages in one browser (10 sessions on the server), half watching the model agents
    under ▶ Play, half playing Ukraine (▶ Play, then Reject each offer they are asked about), all at once,
    until each has played three rounds; then all press Export report at once. No page error, no
    traceback, each tab its own game in its own folder of the class folder, and the class debrief
    (``experiments.debrief --class``, and :func:`sim.analysis.pooling.pool` under it) finds exactly those
    10 games: the 5 played seats pooled, the 5 watch-only games listed apart."""
    server = load_server
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        tabs, errors = [], []
        for n in range(10):
            tab = browser.new_page(viewport=VIEWPORT)
            tab.on("pageerror", lambda e: errors.append(str(e)))
            tab.goto(server["url"])
            tabs.append(tab)
        for n, tab in enumerate(tabs):
            tab.get_by_role("button", name="Export report").wait_for(timeout=120_000)
            if n % 2:
                _choose(tab, "Play as", "Ukraine")
        for tab in tabs:  # everyone presses ▶ Play at once
            tab.get_by_role("button", name="▶ Play", exact=True).click()
        done = set()
        deadline = time.time() + 240
        while len(done) < len(tabs) and time.time() < deadline:
            for n, tab in enumerate(tabs):
                if n in done:
                    continue
                status = _status(tab)
                if "Round 4 of" in status or "The game is over" in status:
                    done.add(n)
                elif n % 2:
                    if tab.get_by_role("button", name="Reject", exact=True).count():
                        target = tab.get_by_role("button", name="Reject", exact=True)
                    elif "Your turn to propose" in status:
                        target = tab.get_by_role("button", name="Propose this deal")
                    elif "Next to propose" in status:  # Play paused at the student's turn: Step on
                        target = tab.get_by_role("button", name="Step", exact=True)
                    else:
                        continue
                    try:  # the page may have moved on since it was read: read it again next time round
                        target.click(timeout=5_000)
                    except PlaywrightError:
                        pass
            tabs[0].wait_for_timeout(200)
        assert len(done) == len(tabs), [(_status(t)) for t in tabs]
        for n, tab in enumerate(tabs):
            assert tab.get_by_text("Traceback").count() == 0
            if n % 2:
                assert "you" in tab.locator(".classroom-last").inner_text() or "You" in _status(tab)
            if tab.get_by_role("button", name="❚❚ Pause").count():  # a watcher's Play still running
                tab.get_by_role("button", name="❚❚ Pause").click()
                tab.get_by_role("button", name="▶ Play").wait_for()
        tabs[0].screenshot(path=str(tmp_path / "load-first-tab.png"))
        for tab in tabs:  # everyone presses Export at once
            tab.get_by_role("button", name="Export report").click()
        written = []
        for tab in tabs:
            message = tab.get_by_text(re.compile(r"Report of the (finished game|game in progress at round \d+) "
                                                 r"written to")).first
            message.wait_for(timeout=120_000)
            written.append(Path(re.search(r"written to (\S+)report\.html", message.inner_text()).group(1)))
        tabs[-1].screenshot(path=str(tmp_path / "load-exported.png"))
        browser.close()
    assert not errors, errors[:3]
    assert not _server_tracebacks(server["log"].read_text())
    folders = {folder.resolve() for folder in written}
    assert len(folders) == 10 and all(folder.parent == server["class"].resolve() for folder in folders)
    assert {f.resolve() for f in server["class"].iterdir() if f.is_dir()} == folders  # nothing else, nothing less
    from sim.analysis.pooling import pool

    pooled = pool(server["class"])
    assert len(pooled) == 1  # one scenario
    games = pooled[0]
    assert sorted(games.games["folder"]) == sorted(f.name for f in folders if "_ukraine_" in f.name)
    assert sorted(games.apart["folder"]) == sorted(f.name for f in folders if "_nobody_" in f.name)
    assert set(games.apart["why"]) == {"watch-only game (nobody in a seat: a demo)"}
    every = pool(server["class"], include_all=True)[0]
    assert sorted(every.games["folder"]) == sorted(f.name for f in folders) and every.apart.empty
    made = experiment("debrief", "--class", str(server["class"]))
    assert made.returncode == 0, made.stderr
    text = (server["class"] / "class-debrief.html").read_text()
    assert "10 exported games from" in text
    for folder in folders:
        assert folder.name in text
