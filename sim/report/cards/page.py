"""Card Markdown as a self-contained, print-friendly HTML page (inline CSS only, nothing external)."""

from __future__ import annotations

import html
import re

_CSS = """
@page { size: A4; margin: 10mm 12mm; }
* { box-sizing: border-box; }
body { font-family: Georgia, "Times New Roman", serif; font-size: 9pt; line-height: 1.2;
       color: #111; background: #fff; margin: 0; }
main.card { max-width: 190mm; margin: 0 auto; padding: 2mm 2mm; }
h1 { font-size: 16pt; margin: 0 0 4pt; border-bottom: 2pt solid #111; padding-bottom: 2pt; }
h2 { font-size: 11.5pt; margin: 7pt 0 3pt; border-bottom: 0.75pt solid #777; break-after: avoid;
     page-break-after: avoid; }
h3 { font-size: 10pt; margin: 6pt 0 2pt; break-after: avoid; page-break-after: avoid; }
p { margin: 2pt 0; }
ul { margin: 2pt 0 3pt; padding-left: 14pt; }
li { margin: 1pt 0; break-inside: avoid; page-break-inside: avoid; }
table { border-collapse: collapse; width: 100%; margin: 3pt 0; font-size: 8pt; line-height: 1.15; }
th, td { border: 0.5pt solid #999; padding: 1pt 3pt; text-align: left; vertical-align: top; }
th { background: #eee; }
td:nth-child(n+2) { white-space: nowrap; }
tr { break-inside: avoid; page-break-inside: avoid; }
a { color: #114; word-break: break-all; }
code { font-family: "Courier New", monospace; font-size: 9pt; }
@media print { a { color: #000; text-decoration: none; } th { background: #ddd; } }
main.card + main.card { break-before: page; page-break-before: always; }
h2.words-to-know + ul { columns: 2; column-gap: 7mm; font-size: 8pt; }
h2.words-to-know + ul li { break-inside: avoid; }
"""

_LINK = re.compile(r"\[([^\]]+)\]\(([^)\s]+)\)")
_URL = re.compile(r"(?<![\"'>=])\b(https?://[^\s<>\"')\]]+[^\s<>\"').,;:\]])")


def _inline(text: str) -> str:
    """Inline Markdown subset -> HTML: `code`, **bold**, *italic*, [text](url) and bare http(s) URLs."""
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
        part = re.sub(r"(?<![\w*])\*(?!\s)([^*]+?)(?<!\s)\*(?![\w*])", r"<em>\1</em>", part)
        part = re.sub(r"\x00(\d+)\x00", lambda m: links[int(m.group(1))], part)
        out.append(part)
    return "".join(out)


inline_html = _inline  # the debrief renders the scenario's notes with it (sim/report/debrief/reading.py)


def _table_cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def markdown_to_html(markdown_text: str) -> str:
    """The Markdown subset :func:`~sim.report.cards.card.role_card` writes -> an HTML fragment.

    Headings (#, ##, ###), paragraphs, bullet lists (nested by two spaces), pipe tables with a
    ``|---|`` separator row, **bold**, `code`, [links](url) and bare URLs. Everything else is text.
    """
    lines = markdown_text.splitlines()
    fragment = _Fragment()
    i = 0
    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        bullet = re.match(r"^(\s*)[-*] (.*)$", line)
        if not stripped:
            fragment.end_block()
        elif heading := re.match(r"^(#{1,6})\s+(.*)$", stripped):
            fragment.end_block()
            level = len(heading.group(1))
            slug = re.sub(r"[^a-z0-9]+", "-", heading.group(2).lower()).strip("-")  # a section, for the CSS
            attribute = f' class="{slug}"' if level > 1 else ""
            fragment.out.append(f"<h{level}{attribute}>{_inline(heading.group(2))}</h{level}>")
        elif (stripped.startswith("|") and i + 1 < len(lines)
              and re.match(r"^\s*\|?\s*:?-{3,}", lines[i + 1])):
            fragment.end_block()
            i = _table(lines, i, fragment.out)
            continue
        elif bullet:
            fragment.bullet(bullet.group(1), bullet.group(2))
        else:
            fragment.text(stripped)
        i += 1
    fragment.end_block()
    return "\n".join(fragment.out)


class _Fragment:
    """The HTML written so far, with the paragraph and the bullet lists still open."""

    def __init__(self) -> None:
        self.out: list[str] = []
        self.paragraph: list[str] = []
        self.list_depth = 0  # open <ul> levels

    def flush_paragraph(self) -> None:
        if self.paragraph:
            self.out.append(f"<p>{_inline(' '.join(self.paragraph))}</p>")
            self.paragraph.clear()

    def close_lists(self, to: int = 0) -> None:
        while self.list_depth > to:
            self.out.append("</li></ul>")
            self.list_depth -= 1

    def end_block(self) -> None:
        """A blank line, a heading or a table: the paragraph and every list end."""
        self.flush_paragraph()
        self.close_lists()

    def bullet(self, indent: str, text: str) -> None:
        """A list item, nested by its indent (two spaces a level, one level deeper at most)."""
        self.flush_paragraph()
        depth = min(len(indent.replace("\t", "  ")) // 2 + 1, self.list_depth + 1)
        if depth > self.list_depth:
            while self.list_depth < depth:
                self.out.append("<ul><li>")
                self.list_depth += 1
        else:
            self.close_lists(depth)
            self.out.append("</li><li>")
        self.out.append(_inline(text))

    def text(self, stripped: str) -> None:
        """A line of text: the continuation of a list item, or of a paragraph."""
        if self.list_depth:
            self.out.append(" " + _inline(stripped))
        else:
            self.paragraph.append(stripped)


def _table(lines: list[str], i: int, out: list[str]) -> int:
    """The pipe table whose header is ``lines[i]`` (a separator row below it) as HTML; returns the index
    of the first line after it."""
    header = _table_cells(lines[i])
    out.append("<table><thead><tr>" + "".join(f"<th>{_inline(c)}</th>" for c in header)
               + "</tr></thead><tbody>")
    i += 2
    while i < len(lines) and lines[i].strip().startswith("|"):
        out.append("<tr>" + "".join(f"<td>{_inline(c)}</td>" for c in _table_cells(lines[i])) + "</tr>")
        i += 1
    out.append("</tbody></table>")
    return i


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



def cards_html(markdown_texts: list[str], title: str) -> str:
    """Every card in one self-contained HTML page that prints one card per A4 page ("print all cards")."""
    cards = "\n".join(f'<main class="card">\n{markdown_to_html(text)}\n</main>' for text in markdown_texts)
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{html.escape(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n{cards}\n</body>\n</html>\n"
    )
