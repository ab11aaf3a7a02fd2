"""What the classroom's browser tests share: Debian's Chromium (never a downloaded browser), its flags, the
check that the browser, Solara's assets and Playwright are there (a skip, or a failure where CI requires the
browser tests: ``CLASSROOM_BROWSER_TEST=required``), and a free local port for a server of a test's own."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]


def missing() -> str:
    """Why the browser tests cannot run here ('' when they can)."""
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


def require_browser() -> None:
    """Skip the calling test when :func:`missing` says why, or fail it when CI requires the browser tests."""
    reason = missing()
    if reason:
        if os.environ.get("CLASSROOM_BROWSER_TEST") == "required":
            pytest.fail(f"browser test required but {reason}")
        pytest.skip(reason)


def free_port() -> int:
    """A port of 127.0.0.1 that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
