"""The words shared by a role card and its teacher's appendix: numbers, positions on an issue's scale,
issues by importance, comments in plain words."""

from __future__ import annotations

import re

from sim.domain.scenario import Issue, Scenario


def number(value: float) -> str:
    """A number as short as it can be written (0.5, 60, 1e-05)."""
    return f"{value:g}"


def position_text(issue: Issue, value: float) -> str:
    """A position on an issue: the number, its unit and the level it is (or is nearest to)."""
    text = f"{number(value)}"
    if issue.unit:
        text += f" {issue.unit}"
    label = issue.level_label(value).replace("_", " ")
    if label:
        exact = any(abs(point - value) < 1e-9 for _, point in issue.levels)
        text += f" ({label})" if exact else f" (nearest level: {label})"
    return text


def plain(text: str) -> str:
    """A scenario comment or note for a student: no evidence marks, brief section codes or addresses."""
    text = re.sub(r"\((?:[^()]*?)https?://[^)]*\)", "", text)
    text = re.sub(r"https?://\S+", "", text)
    text = re.sub(r"\[[DJK]\]", "", text)
    text = re.sub(r"\bbrief\s+(?:§[\d.]+(?:\s*(?:/|,|and)\s*§[\d.]+)*)(?:\s+code\s+\w+)?:?", "", text)
    text = re.sub(r"§[\d.]+", "", text)
    text = re.sub(r"\(\s*[,;:]\s*", "(", text)
    text = re.sub(r"\s+\)", ")", text)
    text = re.sub(r"\(\s*\)", "", text)
    text = re.sub(r"\s+([,.;:])", r"\1", re.sub(r"\s{2,}", " ", text))
    return text.strip(" ;:,")


def ranked_issues(scenario: Scenario, actor_id: str) -> list[Issue]:
    """The issues by the actor's salience, most important first (ties in the scenario's order)."""
    actor = scenario.actor(actor_id)
    order = {iid: k for k, iid in enumerate(scenario.issue_ids)}
    return sorted(scenario.issues, key=lambda issue: (-actor.salience[issue.id], order[issue.id]))

