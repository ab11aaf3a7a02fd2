"""Printable role cards: one page per actor, built only from a scenario and its YAML comments.

Every number in a scenario YAML carries a trailing ``# ...`` comment giving its basis (brief section,
[D] documented / [J] judgement / [K] unchecked, often a quote, a date and a source). A role card puts
those numbers and their bases in front of the person playing the actor:

* :func:`yaml_comments` reads the trailing comments, keyed by dotted path;
* :func:`role_card` writes one actor's card as Markdown;
* :func:`card_html` turns that Markdown into a self-contained, print-friendly HTML page.

All functions are pure (no printing, no files written). ``experiments/cards.py`` is the CLI.
Nothing here is written per actor: every sentence is a template filled from the scenario.
"""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Mapping

from sim.scenario import Issue, Scenario
from sim.utility import disagreement_values, war_win_probability

__all__ = ["yaml_comments", "role_card", "card_html", "evidence_tag"]


# ==================================================================================================
# YAML trailing comments
# ==================================================================================================

_KEY = re.compile(r"""^(?P<key>"[^"]*"|'[^']*'|[^\s#'"{\[][^:#]*?)\s*:(?:\s+|$)(?P<rest>.*)$""")


def _split_comment(text: str) -> tuple[str, str | None]:
    """``value  # comment`` -> (value, comment); a ``#`` inside quotes or not after a space is text."""
    quote: str | None = None
    for i, ch in enumerate(text):
        if quote:
            if ch == quote:
                quote = None
        elif ch in "'\"" and (i == 0 or text[i - 1] in " \t:[{,"):
            quote = ch
        elif ch == "#" and (i == 0 or text[i - 1] in " \t"):
            return text[:i].rstrip(), text[i + 1:].strip()
    return text.rstrip(), None


def _unquote(key: str) -> str:
    key = key.strip()
    if len(key) >= 2 and key[0] == key[-1] and key[0] in "'\"":
        return key[1:-1]
    return key


def yaml_comments(path: str | Path) -> dict[str, str]:
    """The trailing comment of every line of a scenario YAML that has one, keyed by dotted path.

    ``actors.russia.position.enlargement -> "[D] brief §2.1: ..."``. Comments on a mapping's own
    line (``outside_option:  # brief §5 ...``) are keyed by the mapping's path; a list item
    ``- missiles  # ...`` under ``veto`` is keyed both ``...veto.0`` and ``...veto.missiles``.
    Whole-line comments, block-scalar bodies (``>-``, ``|``) and lines the small parser does not
    understand are skipped rather than reported.
    """
    text = Path(path).read_text(encoding="utf-8")
    comments: dict[str, str] = {}
    stack: list[tuple[int, str]] = []  # (indent, key) of the open mappings/lists
    list_index: dict[str, int] = {}  # path of a list -> next item index
    block_indent: int | None = None  # inside a block scalar: lines indented deeper are its body

    for raw in text.splitlines():
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        if raw.lstrip().startswith(("---", "...")) and not raw.startswith(" "):
            stack.clear()
            continue
        indent = len(raw) - len(raw.lstrip(" "))
        if block_indent is not None:
            if indent > block_indent:
                continue
            block_indent = None
        line = raw.strip()

        if line.startswith("- ") or line == "-":
            # a list item: belongs to the innermost open key with a smaller-or-equal indent
            while stack and stack[-1][0] > indent:
                stack.pop()
            if not stack:
                continue
            parent = ".".join(k for _, k in stack)
            index = list_index.get(parent, 0)
            list_index[parent] = index + 1
            item, comment = _split_comment(line[1:].strip())
            if comment is not None and ":" not in item.strip("'\""):
                comments[f"{parent}.{index}"] = comment
                value = _unquote(item)
                if value and re.fullmatch(r"[\w.-]+", value):
                    comments[f"{parent}.{value}"] = comment
            continue

        match = _KEY.match(line)
        if not match:
            continue
        while stack and stack[-1][0] >= indent:
            stack.pop()
        key = _unquote(match.group("key"))
        rest, comment = _split_comment(match.group("rest"))
        dotted = ".".join([k for _, k in stack] + [key])
        if comment is not None:
            comments[dotted] = comment
        if rest == "":
            stack.append((indent, key))  # a block mapping or list follows
        elif rest[0] in "|>":
            block_indent = indent  # folded / literal block: its body carries no comments
        # scalars and inline {..}/[..] values: nothing more to track
    return comments


def evidence_tag(comment: str | None) -> str:
    """The leading evidence mark of a comment: "[D]", "[J]", "[K]" or "" when there is none."""
    if not comment:
        return ""
    match = re.match(r"\s*(\[[DJK]\])", comment)
    if match:
        return match.group(1)
    match = re.search(r"\[[DJK]\]", comment)
    return match.group(0) if match else ""


# ==================================================================================================
# Markdown card
# ==================================================================================================


def _num(value: float) -> str:
    return f"{value:g}"


def _position_text(issue: Issue, value: float) -> str:
    text = f"{_num(value)}"
    if issue.unit:
        text += f" {issue.unit}"
    label = issue.level_label(value).replace("_", " ")
    if label:
        exact = any(abs(point - value) < 1e-9 for _, point in issue.levels)
        text += f" ({label})" if exact else f" (nearest level: {label})"
    return text


def _scale_text(issue: Issue) -> str:
    return f"{_num(issue.lower)}-{_num(issue.upper)}" + (f" {issue.unit}" if issue.unit else "")


def _basis(comment: str | None) -> str:
    """The comment without its leading evidence mark (the card prints the mark separately)."""
    if not comment:
        return "no basis in the scenario file (or the number was changed by an override)"
    return re.sub(r"^\s*\[[DJK]\]\s*", "", comment)


def _ranked_issues(scenario: Scenario, actor_id: str) -> list[Issue]:
    actor = scenario.actor(actor_id)
    order = {iid: k for k, iid in enumerate(scenario.issue_ids)}
    return sorted(scenario.issues, key=lambda issue: (-actor.salience[issue.id], order[issue.id]))


def role_card(scenario: Scenario, actor_id: str, comments: Mapping[str, str]) -> str:
    """One actor's role card as Markdown.

    Args:
        scenario: the validated scenario.
        actor_id: the actor to write the card for.
        comments: from :func:`yaml_comments` on the scenario's YAML (may be empty).

    Raises:
        KeyError: ``actor_id`` is not an actor of the scenario.
    """
    if actor_id not in scenario.actor_ids:
        raise KeyError(f"unknown actor {actor_id!r}; allowed: {', '.join(scenario.actor_ids)}")
    index = scenario.actor_ids.index(actor_id)
    actor = scenario.actors[index]
    ranked = _ranked_issues(scenario, actor_id)
    prefix = f"actors.{actor_id}"
    out: list[str] = []
    add = out.append

    # ---- header -----------------------------------------------------------------------------------
    add(f"# Role card: {actor.name}")
    add("")
    add(f"**Scenario:** {scenario.name or scenario.id}")
    add("")
    if scenario.description:
        add(scenario.description.strip())
        add("")
    others = [a.name for a in scenario.actors if a.id != actor_id]
    add(f"**You play:** {actor.name}. **Across the table:** {', '.join(others)}.")
    add("")
    if actor.note:
        add(f"**Note:** {actor.note}")
        add("")
    cap_comment = comments.get(f"{prefix}.capability")
    total_cap = float(scenario.capabilities.sum())
    add(f"**Your capability:** {_num(actor.capability)} "
        f"({actor.capability / total_cap:.0%} of all actors' capability together)"
        + (f" - {cap_comment}" if cap_comment else ""))
    add("")
    if actor.bloc:
        partners = [a.name for a in scenario.actors if a.bloc == actor.bloc and a.id != actor_id]
        line = f"**Your bloc:** {actor.bloc}"
        if partners:
            line += f" (with {', '.join(partners)})"
        add(line)
        add("")
    if scenario.source:
        add(f"**Source of the numbers:** {scenario.source}")
        add("")

    # ---- what you care about most ---------------------------------------------------------------------
    add("## What you care about most")
    add("")
    add("Issues ranked by how much they matter to you (salience, 0-1). Each issue is a scale; "
        "its two ends are described below it.")
    add("")
    for rank, issue in enumerate(ranked, start=1):
        add(f"### {rank}. {issue.label} - salience {_num(actor.salience[issue.id])}")
        add("")
        add(f"- **You:** {_position_text(issue, actor.position[issue.id])}; "
            f"**status quo (no deal):** {_position_text(issue, issue.status_quo)}; "
            f"scale {_scale_text(issue)}")
        add(f"- **{_num(issue.lower)}:** {issue.low or 'not described'}")
        add(f"- **{_num(issue.upper)}:** {issue.high or 'not described'}")
        if issue.levels:
            levels = ", ".join(f"{_num(p)} {name.replace('_', ' ')}" for name, p in issue.levels)
            add(f"- **Possible outcomes:** {levels}")
        elif issue.note:
            add(f"- **Note:** {issue.note}")
        add("")

    # ---- red lines -----------------------------------------------------------------------------------
    add("## Red lines")
    add("")
    if actor.veto:
        add("Nothing can change on these issues without your consent (veto):")
        add("")
        for iid in actor.veto:
            issue = scenario.issue(iid)
            comment = comments.get(f"{prefix}.veto.{iid}")
            add(f"- **{issue.label}**" + (f" - {comment}" if comment else ""))
        add("")
    else:
        add("You have no veto: any issue can be settled without your consent.")
        add("")
    d = float(disagreement_values(scenario)[index])
    option = actor.outside_option
    option_comment = comments.get(f"{prefix}.outside_option") or comments.get(
        f"{prefix}.outside_option.kind")
    add("**If the talks fail:**")
    add("")
    if option.kind == "war":
        p = war_win_probability(scenario, index)
        opp = scenario.opponents_of(index)
        opp_names = ", ".join(scenario.actors[j].name for j in opp)
        add(f"- You can go to **war** against {opp_names}.")
        add(f"- Your perceived chance of winning: **{p:.0%}** (your capability "
            f"{_num(actor.capability)} against their combined {_num(float(scenario.capabilities[opp].sum()))}"
            + (f", times your optimism {_num(option.optimism)}" if option.optimism != 1 else "")
            + ").")
        add(f"- Cost of war to you: **{_num(option.cost)}** (in utility).")
        for key in ("optimism", "cost"):
            comment = comments.get(f"{prefix}.outside_option.{key}")
            if comment:
                add(f"- Basis for {key}: {comment}")
    elif option.kind == "reservation":
        add(f"- You fall back on an alternative outside these talks worth **{_num(float(option.value))}** "
            "(in utility).")
        comment = comments.get(f"{prefix}.outside_option.value")
        if comment:
            add(f"- Basis: {comment}")
    else:
        add("- The **status quo** stays in force on every issue (see the status quo above).")
    if option_comment:
        add(f"- Why: {option_comment}")
    add(f"- Your **disagreement value**: **{d:.2f}**. Utility 1 = every issue at your position; "
        "0 = every issue as far from it as the scale allows. A deal worth less than this to you is "
        "worse than no deal.")
    add("")

    # ---- documented positions ----------------------------------------------------------------------
    add("## Your documented positions")
    add("")
    add("Where each number comes from. [D] documented, [J] judgement, [K] unchecked background.")
    add("")
    for issue in ranked:
        comment = comments.get(f"{prefix}.position.{issue.id}")
        tag = evidence_tag(comment) or "[?]"
        add(f"- **{issue.label}: {_position_text(issue, actor.position[issue.id])}** {tag} - "
            f"{_basis(comment)}")
        s_comment = comments.get(f"{prefix}.salience.{issue.id}")
        if s_comment:
            add(f"  - salience {_num(actor.salience[issue.id])} {evidence_tag(s_comment) or '[?]'} - "
                f"{_basis(s_comment)}")
    add("")

    # ---- what the others have said -----------------------------------------------------------------
    top = ranked[:3]
    add("## What the others have said")
    add("")
    add("Their positions on your top issues: " + ", ".join(i.label for i in top) + ".")
    add("")
    for other in scenario.actors:
        if other.id == actor_id:
            continue
        add(f"### {other.name}")
        add("")
        for issue in top:
            comment = comments.get(f"actors.{other.id}.position.{issue.id}")
            tag = evidence_tag(comment) or "[?]"
            veto = " (has a veto)" if issue.id in other.veto else ""
            add(f"- **{issue.label}: {_position_text(issue, other.position[issue.id])}**{veto} "
                f"(salience {_num(other.salience[issue.id])}) {tag} - {_basis(comment)}")
        add("")
    return "\n".join(out).rstrip() + "\n"


# ==================================================================================================
# HTML
# ==================================================================================================

_CSS = """
@page { size: A4; margin: 14mm; }
* { box-sizing: border-box; }
body { font-family: Georgia, "Times New Roman", serif; font-size: 10.5pt; line-height: 1.35;
       color: #111; background: #fff; margin: 0; }
main.card { max-width: 190mm; margin: 0 auto; padding: 8mm 6mm; break-after: page;
            page-break-after: always; }
h1 { font-size: 18pt; margin: 0 0 6pt; border-bottom: 2pt solid #111; padding-bottom: 3pt; }
h2 { font-size: 13pt; margin: 12pt 0 4pt; border-bottom: 0.75pt solid #777; break-after: avoid;
     page-break-after: avoid; }
h3 { font-size: 11pt; margin: 8pt 0 2pt; break-after: avoid; page-break-after: avoid; }
p { margin: 3pt 0; }
ul { margin: 2pt 0 4pt; padding-left: 16pt; }
li { margin: 1pt 0; break-inside: avoid; page-break-inside: avoid; }
table { border-collapse: collapse; width: 100%; margin: 4pt 0; font-size: 9.5pt; }
th, td { border: 0.5pt solid #999; padding: 2pt 4pt; text-align: left; vertical-align: top; }
th { background: #eee; }
tr { break-inside: avoid; page-break-inside: avoid; }
a { color: #114; word-break: break-all; }
code { font-family: "Courier New", monospace; font-size: 9.5pt; }
@media print { a { color: #000; text-decoration: none; } th { background: #ddd; } }
"""

_LINK = re.compile(r"\[([^\]]+)\]\(([^)\s]+)\)")
_URL = re.compile(r"(?<![\"'>=])\b(https?://[^\s<>\"')\]]+[^\s<>\"').,;:\]])")


def _inline(text: str) -> str:
    """Inline Markdown subset -> HTML: `code`, **bold**, [text](url) and bare http(s) URLs."""
    parts = re.split(r"(`[^`]+`)", text)
    out = []
    for part in parts:
        if len(part) >= 2 and part.startswith("`") and part.endswith("`"):
            out.append(f"<code>{html.escape(part[1:-1])}</code>")
            continue
        links: list[str] = []

        def keep(anchor: str) -> str:
            links.append(anchor)
            return f"\x00{len(links) - 1}\x00"

        part = _LINK.sub(lambda m: keep(f'<a href="{html.escape(m.group(2), quote=True)}">'
                                        f"{html.escape(m.group(1))}</a>"), part)
        part = _URL.sub(lambda m: keep(f'<a href="{html.escape(m.group(1), quote=True)}">'
                                       f"{html.escape(m.group(1))}</a>"), part)
        part = html.escape(part, quote=False)
        part = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", part)
        part = re.sub(r"\x00(\d+)\x00", lambda m: links[int(m.group(1))], part)
        out.append(part)
    return "".join(out)


def _table_cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def markdown_to_html(markdown_text: str) -> str:
    """The Markdown subset :func:`role_card` writes -> an HTML fragment.

    Headings (#, ##, ###), paragraphs, bullet lists (nested by two spaces), pipe tables with a
    ``|---|`` separator row, **bold**, `code`, [links](url) and bare URLs. Everything else is text.
    """
    lines = markdown_text.splitlines()
    out: list[str] = []
    paragraph: list[str] = []
    list_depth = 0  # open <ul> levels
    i = 0

    def flush_paragraph() -> None:
        if paragraph:
            out.append(f"<p>{_inline(' '.join(paragraph))}</p>")
            paragraph.clear()

    def close_lists(to: int = 0) -> None:
        nonlocal list_depth
        while list_depth > to:
            out.append("</li></ul>")
            list_depth -= 1

    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        bullet = re.match(r"^(\s*)[-*] (.*)$", line)
        if not stripped:
            flush_paragraph()
            close_lists()
        elif heading := re.match(r"^(#{1,6})\s+(.*)$", stripped):
            flush_paragraph()
            close_lists()
            level = len(heading.group(1))
            out.append(f"<h{level}>{_inline(heading.group(2))}</h{level}>")
        elif (stripped.startswith("|") and i + 1 < len(lines)
              and re.match(r"^\s*\|?\s*:?-{3,}", lines[i + 1])):
            flush_paragraph()
            close_lists()
            header = _table_cells(line)
            out.append("<table><thead><tr>" + "".join(f"<th>{_inline(c)}</th>" for c in header)
                       + "</tr></thead><tbody>")
            i += 2
            while i < len(lines) and lines[i].strip().startswith("|"):
                out.append("<tr>" + "".join(f"<td>{_inline(c)}</td>" for c in _table_cells(lines[i]))
                           + "</tr>")
                i += 1
            out.append("</tbody></table>")
            continue
        elif bullet:
            flush_paragraph()
            depth = len(bullet.group(1).replace("\t", "  ")) // 2 + 1
            depth = min(depth, list_depth + 1)
            if depth > list_depth:
                while list_depth < depth:
                    out.append("<ul><li>")
                    list_depth += 1
            else:
                close_lists(depth)
                out.append("</li><li>")
            out.append(_inline(bullet.group(2)))
        else:
            if list_depth:
                out.append(" " + _inline(stripped))  # continuation of a list item
            else:
                paragraph.append(stripped)
        i += 1
    flush_paragraph()
    close_lists()
    return "\n".join(out)


def card_html(markdown_text: str, title: str) -> str:
    """A self-contained, print-friendly HTML page (one card per printed page) from card Markdown.

    Inline CSS only: no scripts, stylesheets, images or other external resources.
    """
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{html.escape(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
        f'<main class="card">\n{markdown_to_html(markdown_text)}\n</main>\n</body>\n</html>\n'
    )
