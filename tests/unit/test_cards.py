"""Role cards (sim/report/cards/): content from the scenario and its YAML comments. (Printed in Chromium
and written by experiments/cards.py: tests/integration/test_cards_cli.py.)"""

from __future__ import annotations

import re

import pytest

from sim.report.cards import card_html, role_card, teacher_appendix, yaml_comments
from sim.domain.config import CONFIG_DIR
from sim.runs.runner import load_scenario

from tests.support import REPO

SCENARIOS = ["jan2022", "classroom/jan2022"]


def _load(name: str):
    path = CONFIG_DIR / "scenario" / f"{name}.yaml"
    if not path.exists():
        pytest.skip(f"{path.relative_to(REPO)} does not exist (yet)")
    return load_scenario(name), yaml_comments(path)


def _section(card: str, heading: str) -> str:
    start = card.index(f"## {heading}")
    following = card.find("\n## ", start + 1)
    return card[start:] if following < 0 else card[start:following]


@pytest.mark.parametrize("name", SCENARIOS)
def test_every_actor_has_a_card_listing_every_issue_ranked_by_salience(name):
    scenario, comments = _load(name)
    for actor in scenario.actors:
        card = role_card(scenario, actor.id, comments)
        assert card.startswith(f"# Role card: {actor.name}")
        wanted = _section(card, "What you want, and what you care about most")
        rows = [line for line in wanted.splitlines() if line.startswith("| ") and not line.startswith("| Issue")]
        labels = [next(i.label for i in scenario.issues if line.removeprefix("| ").lstrip("*").startswith(i.label + ":")
                       or line.removeprefix("| ").lstrip("*").startswith(i.label + "**:")) for line in rows]
        assert labels == [i.label for i in sorted(
            scenario.issues, key=lambda i: (-actor.salience[i.id], scenario.issue_ids.index(i.id)))]
        shown = [float(re.search(r"\(([\d.]+)\) \|$", line).group(1)) for line in rows]
        assert shown == sorted(shown, reverse=True) and shown[0] == max(actor.salience.values())
        for issue in scenario.issues:  # the scale's ends, in full
            assert f"{issue.lower:g} = {issue.low}" in wanted and f"{issue.upper:g} = {issue.high}" in wanted
        red_lines = _section(card, "Your red lines and your outside option")
        for iid in actor.veto:
            assert scenario.issue(iid).label in red_lines
        assert "Your outside option is worth" in red_lines
        others = _section(card, "What the others have said")
        for other in scenario.actors:
            if other.id != actor.id:
                assert f"**{other.name}**" in others


@pytest.mark.parametrize("name", SCENARIOS)
def test_the_students_card_cites_nothing_the_appendix_holds_the_sources(name):
    import yaml

    scenario, comments = _load(name)
    sources = yaml.safe_load((CONFIG_DIR / "sources" / "jan2022-brief.yaml").read_text())
    for actor in scenario.actors:
        card = role_card(scenario, actor.id, comments)
        assert not re.search(r"\[[DJK]\]|§|shared/|\bbrief\b|https?://|\.md\b", card), actor.id
        appendix = teacher_appendix(scenario, actor.id, comments, sources)
        assert "shared/" not in appendix and sources["project_source"] in appendix
        for issue in scenario.issues:
            basis = comments[f"actors.{actor.id}.position.{issue.id}"]
            assert re.sub(r"^\s*\[[DJK]\]\s*", "", basis) in appendix
    # the web address the brief gives for Russia's enlargement basis (§2.1, ENL)
    appendix = teacher_appendix(scenario, "russia", comments, sources)
    russia = appendix.split("## NATO enlargement")[1].split("## ")[0]
    assert "https://kyivindependent.com/diplomacy-week-kicks-off-as-us-russia-meet-to-discuss-ukraine" in russia
    card = role_card(scenario, "russia", comments)
    if scenario.actor("russia").outside_option.kind == "war":
        assert "war" in _section(card, "Your red lines and your outside option") and "win with chance" in card


@pytest.mark.parametrize("name", SCENARIOS)
def test_html_is_self_contained(name):
    scenario, comments = _load(name)
    for actor in scenario.actors:
        page = card_html(role_card(scenario, actor.id, comments), actor.name)
        assert page.startswith("<!DOCTYPE html>")
        assert page.rstrip().endswith("</html>")
        lower = page.lower()
        for forbidden in ("<script", "<link", "src=", "@import", "url("):
            assert forbidden not in lower, forbidden
        assert page.count("<ul>") == page.count("</ul>")
        assert page.count("<main") == 1


def test_card_html_converts_the_markdown_subset():
    page = card_html("# T\n\n- **b** see https://example.org/a.html.\n  - [x](https://e.org)\n\n"
                     "| a | b |\n|---|---|\n| 1 | <2> |\n", "T & co")
    assert "<title>T &amp; co</title>" in page
    assert "<h1>T</h1>" in page and "<strong>b</strong>" in page
    assert '<a href="https://example.org/a.html">' in page and '<a href="https://e.org">x</a>' in page
    assert "<table>" in page and "<td>&lt;2&gt;</td>" in page


def test_yaml_comments_parses_block_and_inline_yaml(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(
        "# header comment\n"
        "id: toy  # the id\n"
        "description: >-\n"
        "  folded text # not a comment key\n"
        "  more text\n"
        "issues:\n"
        "  tax:  # issue comment\n"
        "    label: \"Tax # rate\"  # [D] quoted hash kept in value\n"
        "    status_quo: 50  # [J] guess, see https://example.org/q?a=1#frag\n"
        "    scale: [0, 100]\n"
        "actors:\n"
        "  a:\n"
        "    capability: 1  # [D] brief §1\n"
        "    position: {tax: 10}\n"
        "    salience:\n"
        "      tax: 0.5  # [J] table\n"
        "    veto:\n"
        "      - tax  # needs a\n"
        "    outside_option:\n"
        "      opponents: [b]  # [J] the other one\n"
        "  b:\n"
        "    capability: 2\n"
        "    position: {tax: 90}\n"
        "    weird line without colon\n"
        "    salience: {tax: 1}  # inline\n",
        encoding="utf-8")
    comments = yaml_comments(path)
    assert comments["id"] == "the id"
    assert comments["issues.tax"] == "issue comment"
    assert comments["issues.tax.label"] == "[D] quoted hash kept in value"
    assert comments["issues.tax.status_quo"] == "[J] guess, see https://example.org/q?a=1#frag"
    assert comments["actors.a.capability"] == "[D] brief §1"
    assert comments["actors.a.salience.tax"] == "[J] table"
    assert comments["actors.a.veto.0"] == comments["actors.a.veto.tax"] == "needs a"
    assert comments["actors.a.outside_option.opponents"] == "[J] the other one"
    assert comments["actors.b.salience"] == "inline"
    assert not any(key.startswith("description") for key in comments)
    assert "actors.a.position" not in comments and "actors.b.capability" not in comments


def test_yaml_comments_covers_every_number_of_jan2022():
    comments = yaml_comments(CONFIG_DIR / "scenario" / "jan2022.yaml")
    scenario = load_scenario("jan2022")
    for actor in scenario.actors:
        assert f"actors.{actor.id}.capability" in comments
        for issue in scenario.issues:
            assert f"actors.{actor.id}.position.{issue.id}" in comments
            assert f"actors.{actor.id}.salience.{issue.id}" in comments
    for issue in scenario.issues:
        assert f"issues.{issue.id}.status_quo" in comments


def test_unknown_actor_raises():
    scenario, comments = _load("jan2022")
    with pytest.raises(KeyError):
        role_card(scenario, "atlantis", comments)


def test_school_text_drops_source_notes_and_keeps_the_story_s_dates():
    from sim.report.wording import school_text

    record = "Sequence: Russia rejected the package (17 Feb), recognised the DPR/LPR (21 Feb) and invaded (24 Feb)."
    assert school_text(record) == record  # the dates are the story, not a source
    assert school_text("the Istanbul model (the Istanbul model of 29 Mar 2022)") == \
        "the Istanbul model (the Istanbul model of 29 Mar 2022)"
    assert school_text("binding end to enlargement (RU drafts; 17 Feb)") == "binding end to enlargement"
    assert school_text("withdraw all forces (RU NATO draft Art. 4; 17 Feb) now") == "withdraw all forces now"
    assert school_text("sources: 50 is the U.S. reply (U.S. reply, 26 Jan)") == "50 is the U.S. reply"
    assert school_text("agreed: True, war: False") == "agreed: yes, war: no"
