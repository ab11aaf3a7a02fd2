"""The trailing comments of a scenario YAML, keyed by dotted path: every number's basis (source section,
[D] documented / [J] judgement / [K] unchecked, often a quote, a date and a source), and the plausible
range a comment declares for its number (``range [low, high]``), which ``sweep=source_ranges`` varies."""

from __future__ import annotations

import re
from pathlib import Path

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
            _list_item(line, indent, stack, list_index, comments)
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


def _list_item(line: str, indent: int, stack: list[tuple[int, str]], list_index: dict[str, int],
               comments: dict[str, str]) -> None:
    """A list item's comment: the item belongs to the innermost open key with a smaller-or-equal indent
    and is keyed by its index and, when it is a plain word, by its value."""
    while stack and stack[-1][0] > indent:
        stack.pop()
    if not stack:
        return
    parent = ".".join(k for _, k in stack)
    index = list_index.get(parent, 0)
    list_index[parent] = index + 1
    item, comment = _split_comment(line[1:].strip())
    if comment is not None and ":" not in item.strip("'\""):
        comments[f"{parent}.{index}"] = comment
        value = _unquote(item)
        if value and re.fullmatch(r"[\w.-]+", value):
            comments[f"{parent}.{value}"] = comment


def evidence_tag(comment: str | None) -> str:
    """The leading evidence mark of a comment: "[D]", "[J]", "[K]" or "" when there is none."""
    if not comment:
        return ""
    match = re.match(r"\s*(\[[DJK]\])", comment)
    if match:
        return match.group(1)
    match = re.search(r"\[[DJK]\]", comment)
    return match.group(0) if match else ""


_RANGE = re.compile(r"range \[\s*(-?[0-9.]+)\s*,\s*(-?[0-9.]+)\s*\]")


def declared_ranges(path: str | Path) -> dict[str, tuple[float, float]]:
    """Every ``range [low, high]`` the trailing comments of a scenario YAML declare, keyed by the dotted
    path of the number it belongs to (``actors.russia.salience.enlargement -> (0.85, 1.0)``)."""
    ranges = {}
    for key, comment in yaml_comments(path).items():
        found = _RANGE.search(comment)
        if found and not key.rsplit(".", 1)[-1].isdigit():
            ranges[key] = (float(found.group(1)), float(found.group(2)))
    return ranges
