"""Results in plain words: breakdown causes, for reports, debriefs and the classroom app."""

from __future__ import annotations


def cause_in_words(cause: str, names: dict[str, str] | None = None, issues: dict[str, str] | None = None) -> str:
    """A breakdown cause (``breakdown_cause``: ``deadline``, ``walkout:russia``,
    ``not_individually_rational:russia``, ``red_line:usa.enlargement``, ``package:russia``, and an offers
    walk-out's reasons in brackets, ``walkout:russia (package:russia)``) in plain words, actors by name
    (``names``) and issues by label (``issues``: issue id -> a short name); causes this function does not
    know are shown as they are."""
    main, _, why = str(cause or "").partition(" (")
    words = _cause(main, names or {}, issues or {})
    if why.endswith(")"):
        words += " (" + "; ".join(_cause(reason.strip(), names or {}, issues or {}) for reason in why[:-1].split(", ")) + ")"
    return words


def _cause(cause: str, names: dict[str, str], issues: dict[str, str]) -> str:
    kind, _, detail = cause.partition(":")
    who = ", ".join(names.get(part, part) for part in detail.split(",") if part) if detail else ""
    actor, _, issue = detail.partition(".")
    owner = names.get(actor, actor)
    owner += "'" if owner.endswith("s") else "'s"
    words = {
        "": "no agreement",
        "deadline": "the round limit was reached without an agreement",
        "walkout": f"{who or 'a party'} walked out: no deal still to be had beat its outside option",
        "not_individually_rational": f"the deal on the table was worse than no deal for {who or 'a party'}",
        "red_line": (f"{owner} red line on {issues.get(issue, issue.replace('_', ' '))} was crossed" if issue
                     else f"a red line was crossed ({detail.replace('_', ' ')})"),
        "package": (f"{owner} package rule blocked a partial deal" if detail and "." not in detail
                    else f"a package rule blocked a partial deal ({detail.replace('_', ' ')})"),
        "commitment": f"a commitment problem: {detail.replace('_', ' ')}",
    }
    return words.get(kind, cause.replace("_", " "))


def rule_in_words(rule: str, names: dict[str, str] | None = None, labels: dict[str, str] | None = None) -> str:
    """A deal-gap rule id (``russia.package``, ``usa.red_line.enlargement``, ``russia.outside_option``)
    in words: "Russia's package rule", "United States' red line on enlargement" (``labels``: issue id ->
    a short name; by default the id in words)."""
    names, labels = names or {}, labels or {}
    actor, _, rest = rule.partition(".")
    who = names.get(actor, actor)
    who += "'" if who.endswith("s") else "'s"
    if rest == "package":
        return f"{who} package rule"
    if rest == "outside_option":
        return f"{who} outside option"
    kind, _, issue = rest.partition(".")
    issue, _, level = issue.partition(".")
    what = f"{who} red line on {labels.get(issue, issue.replace('_', ' '))}"
    return what + (f" (level {level.removeprefix('level_')})" if level else "")


def deal_gap_in_words(gap, names: dict[str, str] | None = None, labels: dict[str, str] | None = None,
                      alternatives: int = 1) -> str:
    """One line: is there a deal every needed actor accepts, and if not the least relaxation of the declared
    rules that opens one (points on the issues' 0-100 scales; docs/explanation/why-talks-fail.md)."""
    if gap.feasible:
        if not gap.ranges:
            return "deal gap 0: some bundle meets every declared rule and outside option"
        spans = ", ".join(f"{(names or {}).get(a, a)} {lo:.2f}-{hi:.2f}" for a, (lo, hi) in gap.ranges.items())
        return f"deal gap 0: some bundle meets every declared rule and outside option (utility ranges: {spans})"
    if not gap.relaxations:
        return "deal gap: no relaxation of the declared rules opens a deal"

    def one(relaxation) -> str:
        moves = " and ".join(f"{rule_in_words(m.rule, names, labels)} {m.declared:g} -> {m.relaxed:.1f}"
                             if "outside_option" not in m.rule else
                             f"{rule_in_words(m.rule, names, labels)} {m.declared:.3f} -> {m.relaxed:.3f}"
                             for m in relaxation.moves)
        return f"{moves} ({relaxation.points:.1f} points)"

    text = f"deal gap {gap.gap:.1f} points: no bundle meets every declared rule; least relaxation: {one(gap.relaxations[0])}"
    others = gap.relaxations[1:1 + alternatives]
    if others:
        text += "; next: " + "; ".join(one(r) for r in others)
    return text
