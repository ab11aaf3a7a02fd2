"""A folder of role cards: every actor's card and teacher's appendix (.md and .html) and an index."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import yaml

from sim.domain.config import CONFIG_DIR, check_level
from sim.domain.errors import ConfigError
from sim.domain.scenario import Scenario, scenario_from_config
from sim.report.cards.appendix import teacher_appendix
from sim.report.cards.card import role_card
from sim.domain.yaml_comments import yaml_comments
from sim.report.cards.comments import drop_overridden
from sim.report.cards.page import card_html, cards_html
from sim.runs.files import write_text

SOURCES = CONFIG_DIR / "sources" / "jan2022-brief.yaml"  # tools/brief-sources; not a config group to compose


def brief_sources(scenario: Scenario) -> dict:
    """The web addresses of the domain brief a scenario is built from (sources.yaml), or {}."""
    if not SOURCES.exists() or "brief" not in (scenario.source or ""):
        return {}
    return yaml.safe_load(SOURCES.read_text(encoding="utf-8")) or {}


def write_scenario_cards(config: Any, name: str | None, folder: Path,
                         source: str | None = None, level: str = "university") -> list[Path]:
    """``python -m experiments.cards``: the cards of a composed scenario config into ``folder``; the bases
    of its numbers come from configs/scenario/<name>.yaml (``name``: the scenario chosen on the command
    line; ``source``: the user's own file, if given by path, for error messages).

    Raises:
        ConfigError: the scenario is not valid, or ``name`` has no YAML file under configs/scenario/.
    """
    scenario = scenario_from_config(config, source=source)
    yaml_path = CONFIG_DIR / "scenario" / f"{name}.yaml" if name else None
    if yaml_path is not None and not yaml_path.exists():
        raise ConfigError("configs/scenario", "scenario", f"no YAML file for scenario {name!r}")
    return write_cards(scenario, yaml_path, folder, level)


def write_cards(scenario: Scenario, yaml_path: Path | None, folder: Path, level: str = "university") -> list[Path]:
    """Write every actor's card (.md and .html: one A4 page for the student, at reading ``level``), its
    teacher's appendix (<actor>-sources.md/.html: the basis and sources of every number), all-cards.html
    (every card, one A4 page each: one print job) and an index.html into ``folder``."""
    level = check_level(level)
    comments = _comments(yaml_path, scenario)
    sources = brief_sources(scenario)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    title = scenario.name or scenario.id
    items = []
    cards = []
    for actor in scenario.actors:
        markdown = role_card(scenario, actor.id, comments, level)
        cards.append(markdown)
        md_path = folder / f"{actor.id}.md"
        html_path = folder / f"{actor.id}.html"
        write_text(md_path, markdown)
        write_text(html_path, card_html(markdown, f"{actor.name} - {title}"))
        appendix = teacher_appendix(scenario, actor.id, comments, sources)
        appendix_md, appendix_html = folder / f"{actor.id}-sources.md", folder / f"{actor.id}-sources.html"
        write_text(appendix_md, appendix)
        write_text(appendix_html, card_html(appendix, f"Sources: {actor.name} - {title}"))
        written += [md_path, html_path, appendix_md, appendix_html]
        items.append(f'<li><a href="{html.escape(actor.id)}.html">{html.escape(actor.name)}</a> '
                     f'(<a href="{html.escape(actor.id)}.md">Markdown</a>; teacher\'s appendix: '
                     f'<a href="{html.escape(actor.id)}-sources.html">sources</a>)</li>')
    every = folder / "all-cards.html"
    write_text(every, cards_html(cards, f"Role cards - {title}"))
    index = folder / "index.html"
    write_text(index, _index_page(title, items))
    written += [every, index]
    return written


def _comments(yaml_path: Path | None, scenario: Scenario) -> dict[str, str]:
    """The scenario YAML's comments, without those of numbers an override changed ({} without a file)."""
    if yaml_path is None or not yaml_path.exists():
        return {}
    comments = yaml_comments(yaml_path)
    try:
        raw = yaml.safe_load(yaml_path.read_text(encoding="utf-8"))
    except yaml.YAMLError:
        raw = None
    return drop_overridden(comments, raw, scenario)


def _index_page(title: str, items: list[str]) -> str:
    """index.html: a link to every card and its appendix."""
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            f"<title>Role cards - {html.escape(title)}</title>\n"
            "<style>body{font-family:Georgia,serif;margin:2em;max-width:40em}li{margin:.3em 0}</style>\n"
            "</head>\n<body>\n"
            f"<h1>Role cards</h1>\n<p>{html.escape(title)}</p>\n"
            "<p><a href=\"all-cards.html\">Print all cards</a>: every card, one A4 page each, in one print job.</p>\n"
            "<ul>\n" + "\n".join(items)
            + "\n</ul>\n<p>Or open a card and print it: one A4 page per card, for the student. The teacher's appendix "
            "gives the basis and the sources of every number on it.</p>\n</body>\n</html>\n")
