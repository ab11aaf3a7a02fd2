"""The classroom server as `make classroom` starts it (apps/serve.py): nothing a client sends changes its
files, and a bad class name stops it at once.

A real server on a free port: requests for directories and paths out of the asset folder under Solara's
asset route (which, unpatched, deletes a requested directory of the asset cache), then a new tab in
headless Chromium must still render the app, and the asset folder must be byte for byte as before.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.support import REPO as ROOT
from tests.support.browser import ARGS, CHROMIUM, free_port, require_browser


def _tree(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha1(p.read_bytes()).hexdigest() if p.is_file() else "dir"
            for p in sorted(folder.rglob("*"))}


def _get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


@pytest.mark.subprocess
def test_a_class_name_that_is_not_a_folder_stops_the_server_in_one_line():
    for name in ("../elsewhere", "a\tb"):
        done = subprocess.run([sys.executable, "-m", "apps.serve", "--port", "1"], cwd=ROOT, capture_output=True,
                              text=True, timeout=120, env={**os.environ, "CLASSROOM_CLASS": name})
        assert done.returncode == 2 and done.stderr.startswith("error: CLASS: class:"), done.stderr
        assert len(done.stderr.splitlines()) == 1


@pytest.mark.subprocess
def test_a_reading_level_that_does_not_exist_stops_the_server_in_one_line():
    done = subprocess.run([sys.executable, "-m", "apps.serve", "--port", "1"], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, env={**os.environ, "CLASSROOM_CLASS": "x", "CLASSROOM_LEVEL": "college"})
    assert done.returncode == 2, done.stderr
    assert done.stderr.splitlines() == ["error: LEVEL: level: 'college' is not a reading level; allowed: school, "
                                        "university"]


@pytest.mark.skipif(not shutil.which("make"), reason="make not installed")
def test_make_classroom_passes_level_to_the_app_and_make_help_names_it():
    """``make classroom LEVEL=school`` starts the server with CLASSROOM_LEVEL=school (as CLASS is passed);
    university by default, or the CLASSROOM_LEVEL of the environment (the older way)."""
    def command(*args: str, **env: str) -> str:
        done = subprocess.run(["make", "-n", "classroom", *args], cwd=ROOT, capture_output=True, text=True,
                              timeout=60, env={**os.environ, **env})
        assert done.returncode == 0, done.stderr
        return done.stdout

    environment = {k: v for k, v in os.environ.items() if k != "CLASSROOM_LEVEL"}
    assert 'CLASSROOM_LEVEL="school"' in command("LEVEL=school") and "-m apps.serve" in command("LEVEL=school")
    default = subprocess.run(["make", "-n", "classroom"], cwd=ROOT, capture_output=True, text=True, timeout=60,
                             env=environment).stdout
    assert 'CLASSROOM_LEVEL="university"' in default
    assert 'CLASSROOM_LEVEL="school"' in command(CLASSROOM_LEVEL="school")
    helped = subprocess.run(["make", "help"], cwd=ROOT, capture_output=True, text=True, timeout=60).stdout
    assert "LEVEL=school" in helped and "university (default) or school" in helped


@pytest.mark.browser
@pytest.mark.subprocess
def test_requests_for_asset_directories_change_nothing_and_a_new_tab_renders(tmp_path):
    require_browser()
    assets = Path(os.environ["SOLARA_ASSETS_PROXY_CACHE_DIR"])
    before = _tree(assets)
    port = free_port()
    log_path = tmp_path / "server.log"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "CLASSROOM_CLASS": "3ème-B", "CLASSROOM_RESULTS": str(tmp_path),
           "SOLARA_THEME_SHOW_BANNER": "false"}
    with open(log_path, "w") as log:
        process = subprocess.Popen([sys.executable, "-m", "apps.serve", "--host", "127.0.0.1", "--port", str(port)],
                                   cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 90
        while _get_or_none(base + "/") != 200:
            assert process.poll() is None and time.time() < deadline, log_path.read_text()[-2000:]
            time.sleep(0.5)
        cdn = base + "/_solara/cdn/"
        file = "requirejs@2.3.6/require.js"
        assert _get(cdn + file) == 200  # the route serves the files it has
        for path in ("@widgetti/solara-vuetify-app@10.1.1", "@widgetti/solara-vuetify-app@10.1.1/", "@widgetti",
                     "requirejs@2.3.6", "katex@0.16.9/dist", "%2e%2e/%2e%2e/etc", "..%2f..%2fetc%2fpasswd",
                     "not-a-package@1.0.0/x.js", "not-a-package"):
            assert _get(cdn + path) == 404, path  # never fetched, written or deleted
        assert _tree(assets) == before
        from playwright.sync_api import sync_playwright

        with sync_playwright() as driver:
            browser = driver.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            tab = browser.new_page(viewport={"width": 1366, "height": 768})
            errors: list[str] = []
            tab.on("pageerror", lambda e: errors.append(str(e)))
            tab.goto(base + "/")
            tab.get_by_role("button", name="Export report").wait_for(timeout=90_000)
            assert "Round 1" in tab.locator(".classroom-status").inner_text()
            assert errors == []
            browser.close()
        assert _tree(assets) == before
    finally:
        process.terminate()
        process.wait(timeout=20)
    assert "Traceback" not in log_path.read_text()


def _get_or_none(url: str) -> int | None:
    try:
        return _get(url)
    except OSError:
        return None


def _kernels(base: str) -> int:
    """The sessions (Solara's virtual kernels) the server holds, from its /resourcez page."""
    import json

    with urllib.request.urlopen(base + "/resourcez", timeout=30) as response:
        return int(json.loads(response.read())["kernels"]["total"])


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


@pytest.mark.slow
@pytest.mark.browser
@pytest.mark.subprocess
def test_sessions_whose_pages_dropped_are_freed_after_the_cull_timeout(tmp_path):
    """A real server (apps.serve --cull-timeout 4s, the test's short timeout; 5 min by default): three times,
    a browser opens 4 pages that each start a game, then dies without closing them (SIGKILL: a phone
    asleep, a laptop lid shut). Their sessions stay while a reconnect could come (Solara's own default:
    24 hours), then go: the server's session count drops to 0 after the timeout, and its memory stops
    growing from one class of pages to the next."""
    require_browser()
    import re

    from playwright.sync_api import sync_playwright

    port = free_port()
    log_path = tmp_path / "server.log"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "CLASSROOM_CLASS": "cull", "CLASSROOM_RESULTS": str(tmp_path),
           "SOLARA_THEME_SHOW_BANNER": "false"}
    env.pop("SOLARA_KERNEL_CULL_TIMEOUT", None)
    with open(log_path, "w") as log:
        server = subprocess.Popen([sys.executable, "-m", "apps.serve", "--host", "127.0.0.1", "--port", str(port),
                                   "--cull-timeout", "4s"], cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env=env)
    base = f"http://127.0.0.1:{port}"
    rss, waited = [], []
    try:
        deadline = time.time() + 90
        while _get_or_none(base + "/") != 200:
            assert server.poll() is None and time.time() < deadline, log_path.read_text()[-2000:]
            time.sleep(0.5)
        with sync_playwright() as driver:
            for cycle in range(3):
                chromium = subprocess.Popen([CHROMIUM, "--headless", "--remote-debugging-port=0",
                                             f"--user-data-dir={tmp_path / f'profile-{cycle}'}", *ARGS, "about:blank"],
                                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
                try:
                    line = ""
                    while "DevTools listening on" not in line:
                        line = chromium.stderr.readline()
                        assert line or chromium.poll() is None, "chromium did not start"
                    browser = driver.chromium.connect_over_cdp(re.search(r"ws://\S+", line).group(0))
                    context = browser.contexts[0]
                    for _ in range(4):
                        tab = context.new_page()
                        tab.set_viewport_size({"width": 1366, "height": 768})
                        tab.goto(base + "/")
                        tab.get_by_role("button", name="Step", exact=True).wait_for(timeout=90_000)
                        tab.get_by_role("button", name="Step", exact=True).click()
                        tab.get_by_text("Offer of round 1 by United States").wait_for(timeout=60_000)
                    assert _kernels(base) == 4
                finally:
                    chromium.kill()  # no page closes: the connections just drop
                    chromium.wait(timeout=30)
                dropped = time.time()
                assert _kernels(base) == 4  # kept for now: the pages might come back
                while _kernels(base) and time.time() < dropped + 60:
                    time.sleep(0.25)
                waited.append(time.time() - dropped)
                assert _kernels(base) == 0, f"sessions still held {waited[-1]:.0f} s after the pages dropped"
                time.sleep(1)
                rss.append(_rss_mb(server.pid))
    finally:
        server.terminate()
        server.wait(timeout=20)
    print(f"sessions freed {', '.join(f'{w:.1f}' for w in waited)} s after the pages dropped; server RSS after "
          f"each class of pages: {', '.join(f'{r:.0f}' for r in rss)} MB")
    assert all(3.5 <= w < 60 for w in waited), waited  # freed by the timeout (4 s), not at once
    assert rss[2] < rss[1] + 25, rss  # MB: a class's pages, once freed, leave no lasting growth
    assert "Traceback" not in log_path.read_text()
