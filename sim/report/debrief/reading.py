"""A debrief's words at a reading level (``level=school|university``, as for the role cards).

At ``university`` level every method returns what the debrief has always shown (ids, cause codes and
all). At ``school`` level (16-year-olds): short sentences; actors by name and issues by label, never an
id; breakdown causes in words without their codes; yes/no, not True/False; no section references or
evidence marks ("Brief §3.2 [D]"); Markdown in the scenario's notes rendered; and the few terms that
stay (treaty terms, "Nash solution", "utility") explained under "Words to know".
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from typing import Any, Mapping

import pandas as pd

from sim.report.plots.labels import PLAIN, Labels
from sim.report.wording import DEBRIEF_GLOSSARY, PROTOCOL_NAMES, cause_in_words, glossary_for, school_text

#: Section references and evidence marks of the scenario notes: "Brief §3.2 [D]:", "sources §1.2", "[J]".
_SECTION = re.compile(r"(?:\b(?:brief|sources?)\s+)?§\s*\d+(?:\.\d+)*(?:\s*\[[DJK]\])?(?:\s*:)?\s*", re.IGNORECASE)
_MARK = re.compile(r"\s*\[[DJK]\]")
_CAUSE = re.compile(r"\b(walkout|outside_option|not_individually_rational|red_line|package|commitment|deadline)"
                    r":([a-z0-9_]+(?:[.,][a-z0-9_]+)*)")


def cause_text(row) -> str:
    """A run's result in words: agreement, "in progress at round N", or the breakdown cause, and whether
    the breakdown means war and why (``ending_reason``)."""
    if str(row.get("game", "finished")) == "in progress":
        return str(row["breakdown_cause"])
    if bool(row["agreement"]):
        return "agreement"
    cause = str(row["breakdown_cause"])
    reason = row.get("ending_reason")
    reason = f"; {reason}" if isinstance(reason, str) and reason else ""
    return f"no agreement: {cause_in_words(cause)} ({cause}){reason}"


@dataclass(frozen=True)
class Reading:
    """The words of one scenario's debrief at ``level``: actor names, issue labels, the actors whose
    outside option is war (:func:`~sim.report.wording.cause_in_words`)."""

    level: str = "university"
    names: Mapping[str, str] = field(default_factory=dict)
    labels: Mapping[str, str] = field(default_factory=dict)
    fighters: frozenset[str] = frozenset()
    figure_labels: Labels = PLAIN

    @classmethod
    def of(cls, scenario: Mapping[str, Any] | None, level: str = "university") -> "Reading":
        """From a game's resolved ``scenario`` config node (its config.yaml)."""
        scenario = scenario or {}
        actors = scenario.get("actors") or {}
        labels = Labels.from_config(scenario)
        return cls(level=level, names=dict(labels.actors), labels=dict(labels.issues),
                   fighters=frozenset(k for k, v in actors.items()
                                      if ((v or {}).get("outside_option") or {}).get("kind") == "war"),
                   figure_labels=labels if level == "school" else PLAIN)

    @property
    def school(self) -> bool:
        return self.level == "school"

    def actor(self, actor_id: Any) -> str:
        """An actor id as shown: its name at school level ("nobody" stays)."""
        text = str(actor_id)
        return self.names.get(text, text) if self.school else text

    def protocol(self, protocol: Any) -> str:
        return PROTOCOL_NAMES.get(str(protocol), str(protocol)) if self.school else str(protocol)

    def cause(self, row) -> str:
        """A game's result in words (:func:`cause_text` at university level)."""
        if not self.school or str(row.get("game", "finished")) == "in progress":
            return cause_text(row)
        if bool(row["agreement"]):
            return "agreement"
        words = cause_in_words(str(row["breakdown_cause"]), dict(self.names), "school", dict(self.labels),
                               self.fighters)
        ending = str(row.get("ending", ""))
        return f"no agreement: {words}" + ("; then war broke out" if ending == "war" else "")

    def text(self, text: str) -> str:
        """A note of the scenario (the teacher's ``what_happened``, a question) as HTML: at school level
        without section references, evidence marks, codes or ids, in short sentences, its Markdown rendered."""
        if not self.school:
            return html.escape(text)
        from sim.report.cards.page import inline_html

        text = _SECTION.sub("", text)
        text = _MARK.sub("", text)
        text = _CAUSE.sub(lambda m: cause_in_words(m.group(0), dict(self.names), "school", dict(self.labels),
                                                   self.fighters), text)
        for issue, label in sorted(self.labels.items(), key=lambda item: -len(item[0])):
            if "_" in issue:  # one-word ids ("channels") are English words too
                text = re.sub(rf"\b{re.escape(issue)}\b", label, text)
        for actor, name in sorted(self.names.items(), key=lambda item: -len(item[0])):
            text = re.sub(rf"\b{re.escape(actor)}\b", name, text)  # ids are lower case; "Russia" stays
        text = school_text(text)
        text = re.sub(r";\s+(\w)", lambda m: ". " + m.group(1).upper(), text)  # short sentences
        return inline_html(text[:1].upper() + text[1:])

    def frame(self, frame: pd.DataFrame) -> pd.DataFrame:
        """A table as shown: at school level actor ids (in cells and column names) as names, True/False as
        yes/no, a game's folder as the time it was exported."""
        if not self.school:
            return frame
        out = frame.copy()
        for column in out.columns:
            values = out[column]
            if values.dtype == bool:
                out[column] = values.map({True: "yes", False: "no"})
            elif values.dtype == object or pd.api.types.is_string_dtype(values):
                out[column] = values.map(lambda v: self.names.get(v, v) if isinstance(v, str) else v)
                if column == "game":
                    out[column] = values.map(_game_time)
        return out.rename(columns=lambda c: self.names.get(c, c))

    def glossary(self, body: str) -> str:
        """School level: "Words to know", the terms ``body`` (the debrief's HTML) uses, explained."""
        if not self.school:
            return ""
        plain = html.unescape(re.sub(r"<[^>]+>", " ", re.sub(r'src="[^"]*"', "", body)))
        words = glossary_for(plain, DEBRIEF_GLOSSARY)
        if not words:
            return ""
        return "<h2>Words to know</h2><ul>" + "".join(
            f"<li><b>{html.escape(term)}</b>: {html.escape(meaning)}</li>" for term, meaning in words.items()) + "</ul>"


def _game_time(folder: Any) -> Any:
    """A game folder (``2026-12-05_13-14-00_ukraine_578392``) as the time it was exported ("13:14:00");
    anything else as it is."""
    found = re.match(r"\d{4}-\d\d-\d\d_(\d\d)-(\d\d)-(\d\d)", str(folder))
    if not found:
        return folder
    tab = str(folder).rsplit("_", 1)[-1]
    return f"exported at {found.group(1)}:{found.group(2)}:{found.group(3)}, tab {tab}"
