"""Results in plain words: breakdown causes, for reports, debriefs and the classroom app."""

from __future__ import annotations


def cause_in_words(cause: str, names: dict[str, str] | None = None) -> str:
    """A breakdown cause (``breakdown_cause``: ``deadline``, ``walkout:russia``,
    ``not_individually_rational:russia``, ``red_line:...``, ``package:...``) in plain words; causes
    this function does not know are shown as they are."""
    names = names or {}
    kind, _, detail = str(cause or "").partition(":")
    who = ", ".join(names.get(part, part) for part in detail.split(",") if part) if detail else ""
    words = {
        "": "no agreement",
        "deadline": "the round limit was reached without an agreement",
        "walkout": f"{who or 'a party'} walked out: no deal still to be had beat its outside option",
        "not_individually_rational": f"the deal on the table was worse than no deal for {who or 'a party'}",
        "red_line": f"a red line was crossed ({detail.replace('_', ' ')})",
        "package": f"a package rule blocked a partial deal ({detail.replace('_', ' ')})",
        "commitment": f"a commitment problem: {detail.replace('_', ' ')}",
    }
    return words.get(kind, str(cause).replace("_", " "))
