"""Printable role cards: one page per actor, built only from a scenario and its YAML comments.

Every number in a scenario YAML carries a trailing ``# ...`` comment giving its basis (brief section,
[D] documented / [J] judgement / [K] unchecked, often a quote, a date and a source). A role card puts
those numbers and their bases in front of the person playing the actor:

* :func:`yaml_comments` reads the trailing comments, keyed by dotted path;
* :func:`role_card` writes one actor's card as Markdown;
* :func:`card_html` turns that Markdown into a self-contained, print-friendly HTML page.

* :func:`write_cards` writes every actor's card and teacher's appendix, and an index, into a folder.

All other functions are pure (no printing, no files written). ``experiments/cards.py`` is the CLI.
Nothing here is written per actor: every sentence is a template filled from the scenario.
"""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any, Mapping

import yaml

from sim.domain.config import CONFIG_DIR

from sim.domain.scenario import Issue, Scenario
from sim.kernels.utility import disagreement_values, war_win_probability

__all__ = ["yaml_comments", "role_card", "teacher_appendix", "card_html", "evidence_tag", "plain", "write_cards"]


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
# Markdown card (the student's page) and the teacher's appendix (its sources)
# ==================================================================================================

_TAGS = {"[D]": "documented", "[J]": "judgement", "[K]": "background, unchecked"}


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


def _basis(comment: str | None) -> str:
    """The comment without its leading evidence mark (the appendix prints the mark separately)."""
    if not comment:
        return "no basis in the scenario file (or the number was changed by an override)"
    return re.sub(r"^\s*\[[DJK]\]\s*", "", comment)


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


def _ranked_issues(scenario: Scenario, actor_id: str) -> list[Issue]:
    actor = scenario.actor(actor_id)
    order = {iid: k for k, iid in enumerate(scenario.issue_ids)}
    return sorted(scenario.issues, key=lambda issue: (-actor.salience[issue.id], order[issue.id]))


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


def role_card(scenario: Scenario, actor_id: str, comments: Mapping[str, str]) -> str:
    """One actor's role card as Markdown: one printed A4 page, in plain words (no evidence marks,
    section codes or file paths: those are in :func:`teacher_appendix`).

    Sections: what you want and how much you care (every issue, most important first, with the
    scale's two ends), your red lines and outside option, what the others have said.

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
    out: list[str] = []
    add = out.append

    add(f"# Role card: {actor.name}")
    add("")
    others = [a.name for a in scenario.actors if a.id != actor_id]
    add(f"**{scenario.name or scenario.id}.** You play **{actor.name}**; across the table: {', '.join(others)}."
        + (f" {_note(actor.note, scenario, comments)}" if actor.note else ""))
    add("")

    # ---- what you want, what you care about most -------------------------------------------------------
    add("## What you want, and what you care about most")
    add("")
    add("Each issue is a scale; the deal settles a number on it. Most important to you first.")
    add("")
    add("| Issue: what the ends of its scale mean | You want | No deal | You care |")
    add("|---|---|---|---|")
    for rank, issue in enumerate(ranked, start=1):
        name = f"**{issue.label}**" if rank <= 3 else issue.label
        ends = f"{_num(issue.lower)} = {issue.low or 'low end'}; {_num(issue.upper)} = {issue.high or 'high end'}"
        add(f"| {name}: {ends} | {_position_text(issue, actor.position[issue.id])} | "
            f"{_position_text(issue, issue.status_quo)} | {_cares(actor.salience[issue.id])} "
            f"({_num(actor.salience[issue.id])}) |")
    add("")

    # ---- red lines and outside option --------------------------------------------------------------------
    add("## Your red lines and your outside option")
    add("")
    if actor.veto:
        add("- **Veto:** nothing changes on these without your consent: "
            + "; ".join(scenario.issue(iid).label for iid in actor.veto) + ".")
    else:
        add("- **Veto:** none; any issue can be settled without your consent.")
    d = float(disagreement_values(scenario)[index])
    option = actor.outside_option
    if option.kind == "war":
        p = war_win_probability(scenario, index)
        opp = ", ".join(scenario.actors[j].name for j in scenario.opponents_of(index))
        add(f"- **If the talks fail** you can go to **war** against {opp}: you think you would win with "
            f"chance **{p:.0%}**" + (f" (your optimism {_num(option.optimism)})" if option.optimism != 1 else "")
            + f"; war costs you {_num(option.cost)}.")
    elif option.kind == "reservation":
        add(f"- **If the talks fail** you fall back on an alternative worth **{_num(float(option.value))}**.")
    else:
        add("- **If the talks fail** the status quo (\"no deal\" above) stays in force on every issue.")
    add(f"- **Your outside option is worth {d:.2f}** (1 = every issue as you want it; 0 = every issue as far "
        "from it as possible). Accept no deal worth less than that to you.")
    add("")

    # ---- what the others have said -------------------------------------------------------------------------
    top = ranked[:3]
    add("## What the others have said")
    add("")
    add("Where they stand on your three most important issues, and what they said.")
    add("")
    for other in scenario.actors:
        if other.id == actor_id:
            continue
        stands = "; ".join(f"{issue.label}: {_position_text(issue, other.position[issue.id])}"
                           + (" (veto)" if issue.id in other.veto else "") for issue in top)
        quote = next((q for q in (_said(comments.get(f"actors.{other.id}.position.{i.id}"))
                                  for i in scenario.issues) if q), "")
        add(f"- **{other.name}** — {stands}." + (f" *{quote}*" if quote else ""))
    return "\n".join(out).rstrip() + "\n"


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

    out.append(line(f"Capability {_num(actor.capability)}", comments.get(f"{prefix}.capability")))
    for issue in _ranked_issues(scenario, actor_id):
        code_match = re.search(r"code\s+(\w+)", comments.get(f"issues.{issue.id}", ""))
        code = code_match.group(1) if code_match else ""
        out.append("")
        out.append(f"## {issue.label}")
        out.append("")
        out.append(line(f"Position {_num(actor.position[issue.id])}", comments.get(f"{prefix}.position.{issue.id}"), code))
        out.append(line(f"Salience {_num(actor.salience[issue.id])}", comments.get(f"{prefix}.salience.{issue.id}"), code))
        out.append(line(f"Status quo {_num(issue.status_quo)}", comments.get(f"issues.{issue.id}.status_quo"), code))
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


# ==================================================================================================
# HTML
# ==================================================================================================

_CSS = """
@page { size: A4; margin: 11mm 12mm; }
* { box-sizing: border-box; }
body { font-family: Georgia, "Times New Roman", serif; font-size: 9.5pt; line-height: 1.25;
       color: #111; background: #fff; margin: 0; }
main.card { max-width: 190mm; margin: 0 auto; padding: 4mm 2mm; }
h1 { font-size: 16pt; margin: 0 0 4pt; border-bottom: 2pt solid #111; padding-bottom: 2pt; }
h2 { font-size: 11.5pt; margin: 7pt 0 3pt; border-bottom: 0.75pt solid #777; break-after: avoid;
     page-break-after: avoid; }
h3 { font-size: 10pt; margin: 6pt 0 2pt; break-after: avoid; page-break-after: avoid; }
p { margin: 2pt 0; }
ul { margin: 2pt 0 3pt; padding-left: 14pt; }
li { margin: 1pt 0; break-inside: avoid; page-break-inside: avoid; }
table { border-collapse: collapse; width: 100%; margin: 3pt 0; font-size: 8.5pt; }
th, td { border: 0.5pt solid #999; padding: 1.5pt 3pt; text-align: left; vertical-align: top; }
th { background: #eee; }
td:nth-child(n+2) { white-space: nowrap; }
tr { break-inside: avoid; page-break-inside: avoid; }
a { color: #114; word-break: break-all; }
code { font-family: "Courier New", monospace; font-size: 9pt; }
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


# ==================================================================================================
# A folder of cards
# ==================================================================================================


def _drop_overridden(comments: dict[str, str], raw: Any, scenario: Scenario) -> dict[str, str]:
    """Comments whose number was changed by a command-line override no longer give its basis."""
    actors = (raw or {}).get("actors") or {} if isinstance(raw, dict) else {}
    kept = dict(comments)
    for actor in scenario.actors:
        given = actors.get(actor.id) or {}
        for what in ("position", "salience"):
            values = given.get(what) or {}
            for iid, value in getattr(actor, what).items():
                try:
                    same = float(values.get(iid)) == value
                except (TypeError, ValueError):
                    same = False
                if not same:
                    kept.pop(f"actors.{actor.id}.{what}.{iid}", None)
        try:
            same = float(given.get("capability")) == actor.capability
        except (TypeError, ValueError):
            same = False
        if not same:
            kept.pop(f"actors.{actor.id}.capability", None)
    return kept


SOURCES = CONFIG_DIR / "sources" / "jan2022-brief.yaml"  # tools/brief-sources; not a config group to compose


def brief_sources(scenario: Scenario) -> dict:
    """The web addresses of the domain brief a scenario is built from (sources.yaml), or {}."""
    if not SOURCES.exists() or "brief" not in (scenario.source or ""):
        return {}
    return yaml.safe_load(SOURCES.read_text(encoding="utf-8")) or {}


def write_cards(scenario: Scenario, yaml_path: Path | None, folder: Path) -> list[Path]:
    """Write every actor's card (.md and .html: one A4 page for the student), its teacher's appendix
    (<actor>-sources.md/.html: the basis and sources of every number) and an index.html into ``folder``."""
    comments: dict[str, str] = {}
    if yaml_path is not None and yaml_path.exists():
        comments = yaml_comments(yaml_path)
        try:
            raw = yaml.safe_load(yaml_path.read_text(encoding="utf-8"))
        except yaml.YAMLError:
            raw = None
        comments = _drop_overridden(comments, raw, scenario)
    sources = brief_sources(scenario)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    title = scenario.name or scenario.id
    items = []
    for actor in scenario.actors:
        markdown = role_card(scenario, actor.id, comments)
        md_path = folder / f"{actor.id}.md"
        html_path = folder / f"{actor.id}.html"
        md_path.write_text(markdown, encoding="utf-8")
        html_path.write_text(card_html(markdown, f"{actor.name} - {title}"), encoding="utf-8")
        appendix = teacher_appendix(scenario, actor.id, comments, sources)
        appendix_md, appendix_html = folder / f"{actor.id}-sources.md", folder / f"{actor.id}-sources.html"
        appendix_md.write_text(appendix, encoding="utf-8")
        appendix_html.write_text(card_html(appendix, f"Sources: {actor.name} - {title}"), encoding="utf-8")
        written += [md_path, html_path, appendix_md, appendix_html]
        items.append(f'<li><a href="{html.escape(actor.id)}.html">{html.escape(actor.name)}</a> '
                     f'(<a href="{html.escape(actor.id)}.md">Markdown</a>; teacher\'s appendix: '
                     f'<a href="{html.escape(actor.id)}-sources.html">sources</a>)</li>')
    index = folder / "index.html"
    index.write_text(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        f"<title>Role cards - {html.escape(title)}</title>\n"
        "<style>body{font-family:Georgia,serif;margin:2em;max-width:40em}li{margin:.3em 0}</style>\n"
        "</head>\n<body>\n"
        f"<h1>Role cards</h1>\n<p>{html.escape(title)}</p>\n<ul>\n" + "\n".join(items)
        + "\n</ul>\n<p>Open a card and print it: one A4 page per card, for the student. The teacher's appendix "
        "gives the basis and the sources of every number on it.</p>\n</body>\n</html>\n",
        encoding="utf-8")
    written.append(index)
    return written
