"""The teacher's appendix to a role card (Markdown): every number on the card, its basis and the web
addresses the domain brief cites for it."""

from __future__ import annotations

import re
from typing import Mapping

from sim.domain.scenario import Scenario
from sim.domain.yaml_comments import evidence_tag
from sim.report.cards.text import number, ranked_issues

_TAGS = {"[D]": "documented", "[J]": "judgement", "[K]": "background, unchecked"}


def _basis(comment: str | None) -> str:
    """The comment without its leading evidence mark (the appendix prints the mark separately)."""
    if not comment:
        return "no basis in the scenario file (or the number was changed by an override)"
    return re.sub(r"^\s*\[[DJK]\]\s*", "", comment)


def _urls(sources: Mapping, comment: str | None, code: str) -> list[str]:
    """The web addresses the brief cites for ``code`` in the sections ``comment`` refers to."""
    found: list[str] = []
    sections = (sources or {}).get("sections") or {}
    for section in re.findall(r"§(\d+(?:\.\d+)?)", comment or ""):
        for url in (sections.get(section) or {}).get(code, []):
            if url not in found:
                found.append(url)
    return found + [u for u in re.findall(r"https?://\S+[^\s).,;]", comment or "") if u not in found]


def teacher_appendix(scenario: Scenario, actor_id: str, comments: Mapping[str, str],
                     sources: Mapping | None = None) -> str:
    """The teacher's appendix to one role card (Markdown): every number on the card with its basis
    (the scenario YAML's comment, evidence mark spelt out) and the web addresses the domain brief
    cites for it (``sources``: configs/sources/jan2022-brief.yaml, from tools/brief-sources)."""
    if actor_id not in scenario.actor_ids:
        raise KeyError(f"unknown actor {actor_id!r}; allowed: {', '.join(scenario.actor_ids)}")
    actor = scenario.actor(actor_id)
    prefix = f"actors.{actor_id}"
    sources = sources or {}
    out = [f"# Teacher's appendix: sources for the {actor.name} card", ""]
    brief = sources.get("brief", "the project's domain brief")
    out.append(f"Every number on the card, the basis its scenario file gives, and the web addresses that "
               f"*{brief}* cites for it. Evidence: " + ", ".join(f"{k} {v}" for k, v in _TAGS.items()) + ".")
    if sources.get("project_source"):
        out.append(f"Project source document: {sources['project_source']}")
    out.append("")

    def line(what: str, comment: str | None, code: str = "") -> str:
        tag = evidence_tag(comment)
        text = f"- **{what}** {tag} {_TAGS.get(tag, 'no evidence mark')}: {_basis(comment)}"
        urls = _urls(sources, comment, code)
        return text + (" Sources: " + " ; ".join(urls) if urls else "")

    out.append(line(f"Capability {number(actor.capability)}", comments.get(f"{prefix}.capability")))
    for issue in ranked_issues(scenario, actor_id):
        code_match = re.search(r"code\s+(\w+)", comments.get(f"issues.{issue.id}", ""))
        code = code_match.group(1) if code_match else ""
        out.append("")
        out.append(f"## {issue.label}")
        out.append("")
        out.append(line(f"Position {number(actor.position[issue.id])}", comments.get(f"{prefix}.position.{issue.id}"), code))
        out.append(line(f"Salience {number(actor.salience[issue.id])}", comments.get(f"{prefix}.salience.{issue.id}"), code))
        out.append(line(f"Status quo {number(issue.status_quo)}", comments.get(f"issues.{issue.id}.status_quo"), code))
        if issue.id in actor.veto:
            out.append(line("Veto", comments.get(f"{prefix}.veto.{issue.id}"), code))
    out.append("")
    out.append("## Outside option")
    out.append("")
    option_keys = [k for k in comments if k.startswith(f"{prefix}.outside_option")]
    for key in option_keys:
        out.append(line(key.removeprefix(f"{prefix}."), comments[key]))
    if not option_keys:
        out.append("- no basis in the scenario file")
    return "\n".join(out).rstrip() + "\n"

