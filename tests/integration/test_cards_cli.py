"""Role cards as they leave the program: each card of the classroom scenario printed to PDF in Chromium
fits one A4 page, and experiments.cards writes a card per actor and an index, refusing bad input in one
line. (The cards' content: tests/unit/test_cards.py.)"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from sim.report.cards import card_html, role_card, yaml_comments
from sim.domain.config import CONFIG_DIR
from sim.runs.runner import load_scenario

from tests.support import experiment

pytestmark = pytest.mark.subprocess  # Chromium and experiments.cards


def test_a_role_card_prints_on_one_a4_page(tmp_path):
    """Print each card of the classroom scenario to PDF in Chromium and count the pages."""
    import os
    import shutil

    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(chromium).exists():
        if os.environ.get("CLASSROOM_BROWSER_TEST") == "required":
            pytest.fail("chromium not installed: cannot print the role cards")
        pytest.skip("chromium not installed")
    scenario = load_scenario("classroom/jan2022")
    comments = yaml_comments(CONFIG_DIR / "scenario" / "classroom" / "jan2022.yaml")
    for actor in scenario.actors:
        page = tmp_path / f"{actor.id}.html"
        page.write_text(card_html(role_card(scenario, actor.id, comments), actor.name), encoding="utf-8")
        pdf = tmp_path / f"{actor.id}.pdf"
        subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer",
                        f"--print-to-pdf={pdf}", page.as_uri()], capture_output=True, timeout=120, check=True)
        pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf.read_bytes()))
        assert pages == 1, (actor.id, pages)


def cli(*args: str) -> subprocess.CompletedProcess:
    return experiment("cards", *args)


def test_cli_writes_a_card_per_actor_and_an_index(tmp_path):
    out = tmp_path / "run"
    done = cli("scenario=jan2022", f"hydra.run.dir={out}")
    assert done.returncode == 0, done.stderr
    folder = out / "cards"
    assert str(folder) in done.stdout
    assert len(list(folder.glob("*.md"))) == 8  # 4 cards + 4 teacher's appendices
    assert len(list(folder.glob("*.html"))) == 9  # the same + index
    index = (folder / "index.html").read_text(encoding="utf-8")
    assert index.startswith("<!DOCTYPE html>")
    for actor in ("usa", "nato", "russia", "ukraine"):
        assert (folder / f"{actor}.md").exists() and (folder / f"{actor}.html").exists()
        assert f'href="{actor}.html"' in index and f'href="{actor}-sources.html"' in index


def test_cli_bad_input_is_one_line_exit_2(tmp_path):
    done = cli("scenario=no_such_scenario", f"hydra.run.dir={tmp_path / 'x'}")
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1 and "no_such_scenario" in done.stderr
    done = cli("scenario=jan2022", "scenario.actors.russia.capability=-1",
               f"hydra.run.dir={tmp_path / 'y'}")
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1 and "capability" in done.stderr
