"""One actor's role card (Markdown): one printed A4 page for the student, in plain words."""

from __future__ import annotations

import re
from typing import Mapping

from sim.domain.scenario import Scenario
from sim.kernels.utility import (disagreement_values, status_quo_values, war_attacked_by, war_preferred,
                                 war_values, war_win_probability)
from sim.report.cards.text import number, plain, position_text, ranked_issues
from sim.report.wording import glossary_for, school_text


def _note(note: str, scenario: Scenario, comments: Mapping[str, str]) -> str:
    """An actor's note in plain words: issue codes (``ENL``) as issue names, modelling advice dropped."""
    names = {}
    for issue in scenario.issues:
        code = re.search(r"code\s+(\w+)", comments.get(f"issues.{issue.id}", ""))
        if code:
            names[code.group(1)] = issue.label
    parts = [part for part in re.split(r";\s*", plain(note)) if not re.search(r"\b(encode|protocol|model)\b", part)]
    text = "; ".join(parts).strip()
    text = re.sub(r"\b([A-Z]{3,})/(?=[A-Z]{3,}\b)", r"\1; ", text)  # ENL/UKRMIL -> ENL; UKRMIL
    text = re.sub(r"\b([A-Z]{3,})/(?=[A-Z]{3,}\b)", r"\1; ", text)
    for code, label in names.items():
        text = re.sub(rf"\b{code}\b", label, text)
    return text + ("." if text and not text.endswith(".") else "")


def _cares(salience: float) -> str:
    return "most" if salience >= 0.85 else "a lot" if salience >= 0.6 else "some" if salience >= 0.35 else "little"


def _said(comment: str | None) -> str:
    """The part of a comment that quotes someone ("Sherman: "will not allow ..."")."""
    for part in re.split(r";\s*", comment or ""):
        if re.search(r'"[^"]{8,}"', part):
            return plain(part)
    return ""


def role_card(scenario: Scenario, actor_id: str, comments: Mapping[str, str], level: str = "university") -> str:
    """One actor's role card as Markdown: one printed A4 page, in plain words (no evidence marks,
    section codes or file paths: those are in :func:`teacher_appendix`).

    Sections: what you want and how much you care (every issue, most important first, with the
    scale's two ends), your red lines and outside option, what the others have said.

    Args:
        scenario: the validated scenario.
        actor_id: the actor to write the card for.
        comments: from :func:`yaml_comments` on the scenario's YAML (may be empty).
        level: ``university``, or ``school`` (:func:`school_card`: short sentences, no weights or source
            notes, the treaty terms it uses explained under "Words to know").

    Raises:
        KeyError: ``actor_id`` is not an actor of the scenario.
    """
    if actor_id not in scenario.actor_ids:
        raise KeyError(f"unknown actor {actor_id!r}; allowed: {', '.join(scenario.actor_ids)}")
    if level == "school":
        return school_card(scenario, actor_id, comments)
    index = scenario.actor_ids.index(actor_id)
    actor = scenario.actors[index]
    ranked = ranked_issues(scenario, actor_id)
    others = [a.name for a in scenario.actors if a.id != actor_id]
    out = [f"# Role card: {actor.name}", "",
           f"**{scenario.name or scenario.id}.** You play **{actor.name}**; across the table: {', '.join(others)}."
           + (f" {_note(actor.note, scenario, comments)}" if actor.note else ""), ""]
    out += _wants(actor, ranked)
    out += _red_lines(scenario, index)
    out += _others(scenario, actor_id, ranked[:3], comments)
    return "\n".join(out).rstrip() + "\n"


def _wants(actor, ranked: list) -> list[str]:
    """What you want, and what you care about most: every issue, most important first, with the
    scale's two ends."""
    out = ["## What you want, and what you care about most", "",
           "Each issue is a scale; the deal settles a number on it. Most important to you first.", "",
           "| Issue: what the ends of its scale mean | You want | No deal | You care |", "|---|---|---|---|"]
    for rank, issue in enumerate(ranked, start=1):
        name = f"**{issue.label}**" if rank <= 3 else issue.label
        ends = f"{number(issue.lower)} = {issue.low or 'low end'}; {number(issue.upper)} = {issue.high or 'high end'}"
        out.append(f"| {name}: {ends} | {position_text(issue, actor.position[issue.id])} | "
                   f"{position_text(issue, issue.status_quo)} | {_cares(actor.salience[issue.id])} "
                   f"({number(actor.salience[issue.id])}) |")
    return out + [""]


def _red_lines(scenario: Scenario, index: int) -> list[str]:
    """Your red lines (vetoes) and your outside option: what it is and what it is worth to you."""
    actor = scenario.actors[index]
    out = ["## Your red lines and your outside option", ""]
    if actor.veto:
        out.append("- **Veto:** nothing changes on these without your consent: "
                   + "; ".join(scenario.issue(iid).label for iid in actor.veto) + ".")
    else:
        out.append("- **Veto:** none; any issue can be settled without your consent.")
    d = float(disagreement_values(scenario)[index])
    option = actor.outside_option
    if option.kind == "war":
        p = war_win_probability(scenario, index)
        opp = ", ".join(scenario.actors[j].name for j in scenario.opponents_of(index))
        out.append(f"- **If the talks fail** you can go to **war** against {opp}: you think you would win with "
                   f"chance **{p:.0%}**" + (f" (your optimism {number(option.optimism)})" if option.optimism != 1 else "")
                   + f"; war costs you {number(option.cost)}.")
        war, status_quo = float(war_values(scenario)[index]), float(status_quo_values(scenario)[index])
        attackers = ", ".join(scenario.actors[j].name for j in war_attacked_by(scenario)[index])
        if not war_preferred(scenario)[index]:
            then = (f"but {attackers} would start a war against you, so if the talks fail you fight it" if attackers
                    else "so if the talks fail the status quo stays in force")
            out.append(f"- That war is worth {war:.2f} to you, no more than the status quo ({status_quo:.2f}): you "
                       f"would not start it; {then}.")
    elif option.kind == "reservation":
        out.append(f"- **If the talks fail** you fall back on an alternative worth **{number(float(option.value))}**.")
    else:
        out.append("- **If the talks fail** the status quo (\"no deal\" above) stays in force on every issue.")
    out.append(f"- **Your outside option is worth {d:.2f}** (1 = every issue as you want it; 0 = every issue as far "
               "from it as possible). Accept no deal worth less than that to you.")
    return out + [""]


def _others(scenario: Scenario, actor_id: str, top: list, comments: Mapping[str, str]) -> list[str]:
    """What the others have said: where they stand on your three most important issues, and a quote."""
    out = ["## What the others have said", "",
           "Where they stand on your three most important issues, and what they said.", ""]
    for other in scenario.actors:
        if other.id == actor_id:
            continue
        stands = "; ".join(f"{issue.label}: {position_text(issue, other.position[issue.id])}"
                           + (" (veto)" if issue.id in other.veto else "") for issue in top)
        quote = next((q for q in (_said(comments.get(f"actors.{other.id}.position.{i.id}"))
                                  for i in scenario.issues) if q), "")
        out.append(f"- **{other.name}** — {stands}." + (f" *{quote}*" if quote else ""))
    return out


def school_card(scenario: Scenario, actor_id: str, comments: Mapping[str, str]) -> str:
    """:func:`role_card` for school students (16-year-olds): short sentences; how much you care in words
    only; no notes on where a number comes from; every treaty term that stays explained at the end."""
    index = scenario.actor_ids.index(actor_id)
    actor = scenario.actors[index]
    ranked = ranked_issues(scenario, actor_id)
    others = [a.name for a in scenario.actors if a.id != actor_id]
    out = [f"# Role card: {actor.name}", "", f"You play **{actor.name}**. Across the table: {', '.join(others)}.", ""]
    if actor.note:
        out += [school_text(_note(actor.note, scenario, comments)), ""]
    out += ["## What you want", "",
            "Each issue is a scale. The deal puts a number on each scale. Your most important issues come first.", "",
            "| Issue: what the two ends of its scale mean | You want | No deal | You care |", "|---|---|---|---|"]
    for rank, issue in enumerate(ranked, start=1):
        name = f"**{issue.label}**" if rank <= 3 else issue.label
        ends = school_text(f"{number(issue.lower)} = {issue.low or 'low end'}; "
                           f"{number(issue.upper)} = {issue.high or 'high end'}")
        out.append(f"| {name}: {ends} | {_school_position(issue, actor.position[issue.id])} | "
                   f"{_school_position(issue, issue.status_quo)} | {_cares(actor.salience[issue.id])} |")
    out += ["", "## Your red lines, and what happens if the talks fail", ""]
    if actor.veto:
        out.append("- **You can block these issues.** Nothing changes on them unless you agree: "
                   + "; ".join(scenario.issue(iid).label for iid in actor.veto) + ".")
    else:
        out.append("- You cannot block any issue on your own.")
    option = actor.outside_option
    if option.kind == "war":
        p = war_win_probability(scenario, index)
        opp = ", ".join(scenario.actors[j].name for j in scenario.opponents_of(index))
        out.append(f"- **If the talks fail, you can go to war** against {opp}. You think you would win with a "
                   f"chance of **{p:.0%}**. War also costs you something.")
        if not war_preferred(scenario)[index]:
            attackers = ", ".join(scenario.actors[j].name for j in war_attacked_by(scenario)[index])
            out.append("- War is not better for you than no deal, so you would not start it."
                       + (f" But {attackers} would start a war against you." if attackers else ""))
    elif option.kind == "reservation":
        out.append(f"- **If the talks fail**, you have another choice, worth **{number(float(option.value))}** to you.")
    else:
        out.append("- **If the talks fail**, nothing changes: every issue stays at \"No deal\".")
    d = float(disagreement_values(scenario)[index])
    out.append(f"- **No deal is worth {d:.2f} to you** (1 = every issue as you want it; 0 = the worst possible). "
               "Do not accept a deal that is worth less to you.")
    out += ["", "## What the others want on your three most important issues, and what they said", ""]
    for other in scenario.actors:
        if other.id == actor_id:
            continue
        stands = "; ".join(f"{issue.label}: {_school_position(issue, other.position[issue.id])}"
                           + (" (can block it)" if issue.id in other.veto else "") for issue in ranked[:3])
        quote = next((q for q in (_said(comments.get(f"actors.{other.id}.position.{i.id}"))
                                  for i in scenario.issues) if q), "")
        out.append(f"- **{other.name}**: {stands}." + (f" They said: *{school_text(quote)}*" if quote else ""))
    words = glossary_for("\n".join(out))
    if words:
        out += ["", "## Words to know", ""] + [f"- **{term}**: {meaning}" for term, meaning in words.items()]
    return "\n".join(out).rstrip() + "\n"


def _school_position(issue, value: float) -> str:
    """A position as a number and the level it is nearest to ("80 (open door)")."""
    return position_text(issue, value).replace("nearest level: ", "")
