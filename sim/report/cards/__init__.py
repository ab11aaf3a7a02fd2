"""Printable role cards: one page per actor, built only from a scenario and its YAML comments.

Every number in a scenario YAML carries a trailing ``# ...`` comment giving its basis (brief section,
[D] documented / [J] judgement / [K] unchecked, often a quote, a date and a source). A role card puts
those numbers and their bases in front of the person playing the actor:

* :func:`yaml_comments` reads the trailing comments, keyed by dotted path (:mod:`~sim.report.cards.comments`);
* :func:`role_card` writes one actor's card as Markdown (:mod:`~sim.report.cards.card`);
* :func:`teacher_appendix` writes its sources, every number's basis (:mod:`~sim.report.cards.appendix`);
* :func:`card_html` turns that Markdown into a self-contained, print-friendly HTML page
  (:mod:`~sim.report.cards.page`).

* :func:`write_cards` writes every actor's card and teacher's appendix, and an index, into a folder;
  :func:`write_scenario_cards` does it for a composed scenario config (:mod:`~sim.report.cards.folder`).

All other functions are pure (no printing, no files written). ``experiments/cards.py`` is the CLI.
Nothing here is written per actor: every sentence is a template filled from the scenario.
"""

from __future__ import annotations

from sim.report.cards.appendix import teacher_appendix
from sim.report.cards.card import role_card
from sim.domain.yaml_comments import evidence_tag, yaml_comments
from sim.report.cards.folder import SOURCES, brief_sources, write_cards, write_scenario_cards
from sim.report.cards.page import card_html, markdown_to_html
from sim.report.cards.text import plain

__all__ = ["yaml_comments", "role_card", "teacher_appendix", "card_html", "evidence_tag", "plain",
           "write_cards", "write_scenario_cards", "markdown_to_html", "brief_sources", "SOURCES"]
