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
    assert len(list(folder.glob("*.html"))) == 10  # the same + all-cards + index
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


def code_names(text: str, scenario) -> list[str]:
    """What a school student must not read: actor ids (``russia``), issue ids with an underscore
    (``ukraine_military``), cause codes (``outside_option:russia``), True/False, section references and
    evidence marks (``Brief §3.2 [D]``)."""
    found = [a for a in scenario.actor_ids if re.search(rf"\b{a}\b", text)]
    found += [i for i in scenario.issue_ids if "_" in i and i in text]
    found += re.findall(r"\b[a-z_]+:[a-z_,]+\b", text)  # cause codes
    found += re.findall(r"\bTrue\b|\bFalse\b|§|\[[DJK]\]|\bbrief\b", text, flags=re.IGNORECASE)
    return found


def test_school_cards_are_one_print_job_one_page_per_actor_without_code_names(tmp_path):
    """`experiments.cards scenario=classroom/jan2022 level=school`: all-cards.html prints (Chromium) to one
    A4 page per actor; no card holds a code name; the treaty terms that stay are explained; no literal
    Markdown asterisks reach the page."""
    import os
    import shutil

    out = tmp_path / "run"
    done = cli("scenario=classroom/jan2022", "level=school", f"hydra.run.dir={out}")
    assert done.returncode == 0, done.stderr
    folder = out / "cards"
    scenario = load_scenario("classroom/jan2022")
    for actor in scenario.actors:
        card = (folder / f"{actor.id}.md").read_text(encoding="utf-8")
        assert code_names(card, scenario) == [], actor.id
        assert "(0.9)" not in card and "RU drafts" not in card  # no weights, no source notes
        if "9M729" in card:
            assert "## Words to know" in card and "**9M729**:" in card
        page = (folder / f"{actor.id}.html").read_text(encoding="utf-8")
        body = re.sub(r"<[^>]+>", "", page.split("<body>")[1])
        assert "*" not in body, actor.id  # **bold** and *quotes* rendered, not shown
    every = folder / "all-cards.html"
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(chromium).exists():
        if os.environ.get("CLASSROOM_BROWSER_TEST") == "required":
            pytest.fail("chromium not installed: cannot print the role cards")
        pytest.skip("chromium not installed")
    pdf = tmp_path / "all-cards.pdf"
    subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer",
                    f"--print-to-pdf={pdf}", every.as_uri()], capture_output=True, timeout=120, check=True)
    assert len(re.findall(rb"/Type\s*/Page[^s]", pdf.read_bytes())) == len(scenario.actors)


def test_a_reading_level_that_does_not_exist_is_one_line_exit_2(tmp_path):
    done = cli("scenario=classroom/jan2022", "level=college", f"hydra.run.dir={tmp_path / 'x'}")
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == ["error: command line: level: 'college' is not a reading level; "
                                                "allowed: school, university"]
    assert not (tmp_path / "x" / "cards").exists()
