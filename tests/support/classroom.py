"""Driving a classroom session as a student would, without a browser (tests and tools/bench_classroom_export.py)."""

from __future__ import annotations


def play_turn(session, accept: bool = True) -> None:
    """One turn through the session's controls: answer the offer (``accept``), propose the sliders' bundle
    (the seat's ideal unless moved), or Step."""
    if session.model.waiting == "respond":
        session.respond(accept)
    elif session.model.waiting == "propose":
        session.propose()
    else:
        session.step()


def play_to_end(session, accept: bool = True) -> None:
    """Play the session's game to its end, answering every offer with ``accept``; fails on a control's error."""
    while session.model.running:
        play_turn(session, accept)
        assert session.error == "", session.error


def visible_text(page: str) -> str:
    """What a reader sees of an HTML page: its body's text, without tags, figures or styles."""
    import html
    import re

    body = page.split("<body>", 1)[-1]
    body = re.sub(r"<img[^>]*>", " ", body)
    return html.unescape(re.sub(r"<[^>]+>", " ", body))


def code_names(text: str, scenario) -> list[str]:
    """What a school student must not read: actor ids (``russia``), issue ids with an underscore
    (``ukraine_military``), cause codes (``outside_option:russia``), True/False, section references and
    evidence marks (``Brief §3.2 [D]``), file names and export folders (``2026-12-05_13-14-00_usa_ab12``),
    protocol ids, and Markdown left unrendered (``**``, backticks)."""
    import re

    found = [a for a in scenario.actor_ids if re.search(rf"(?<![\w-]){a}(?![\w-])", text)]
    found += [i for i in scenario.issue_ids if "_" in i and i in text]
    found += re.findall(r"\b[a-z_]+:[a-z_,.]+\b", text)  # cause codes
    found += re.findall(r"\bTrue\b|\bFalse\b|§|\[[DJK]\]|\bbrief\b", text, flags=re.IGNORECASE)
    found += re.findall(r"[\w/]+\.(?:ya?ml|csv|parquet|md)\b|\d{4}-\d\d-\d\d_\S+", text)
    found += re.findall(r"\*\*|`|\b(?:offers|eu|exchange)\b(?= *:)", text)
    return found
