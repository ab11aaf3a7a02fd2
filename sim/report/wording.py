"""Results in plain words: breakdown causes, for reports, debriefs and the classroom app."""

from __future__ import annotations

import re


def cause_in_words(cause: str, names: dict[str, str] | None = None, level: str = "university",
                   labels: dict[str, str] | None = None, fighters: frozenset[str] | set[str] = frozenset(),
                   issues: dict[str, str] | None = None) -> str:
    """A breakdown cause (``breakdown_cause``: ``deadline``, ``walkout:russia``, ``outside_option:russia``,
    ``not_individually_rational:russia``, ``red_line:usa.enlargement``, ``package:russia``, and an offers
    walk-out's reasons in brackets, ``walkout:russia (package:russia)``) in plain words, actors by name
    (``names``) and issues by label (``labels``, or ``issues``: issue id -> a short name); causes this
    function does not know are shown as they are (at ``level="school"``: in words, without codes).

    Args:
        fighters: the actors whose outside option is war ("expected to gain more by fighting", school level).
    """
    names, labels = names or {}, labels or issues or {}
    main, _, why = str(cause or "").partition(" (")
    if level == "school":
        return _school_cause(main, names, labels, fighters)
    words = _cause(main, names, labels)
    if why.endswith(")"):
        words += " (" + "; ".join(_cause(reason.strip(), names, labels) for reason in why[:-1].split(", ")) + ")"
    return words


def _school_cause(cause: str, names: dict[str, str], labels: dict[str, str], fighters) -> str:
    kind, _, detail = cause.partition(":")
    who = ", ".join(names.get(part, part) for part in detail.split(",") if part) if detail else ""
    actor, _, issue = detail.partition(".")
    name = names.get(actor, "a party")
    instead = "by fighting" if set(detail.split(",")) & set(fighters) else "without a deal"
    words = {
        "": "no agreement",
        "deadline": "time ran out before anyone agreed",
        "walkout": f"{who or 'a party'} left the talks: it expected to gain more {instead} than from any "
                   "deal still possible",
        "outside_option": f"{name} expected to gain more {instead}",
        "not_individually_rational": f"the deal on the table was worse than no deal for {who or 'a party'}",
        "red_line": f"a red line of {name} was crossed"
                    + (f" (on {labels.get(issue.partition('.')[0], 'an issue')})" if issue else ""),
        "package": f"{name} wanted its most important issues settled first, together",
        "commitment": "a party could not trust the others to keep the deal",
    }
    return words.get(kind, "no agreement")


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
        "outside_option": f"{who or 'a party'}'s outside option was worth more than any deal",
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


#: The treaty terms that stay in students' texts at school level, each explained in one short sentence
#: (a role card lists those it uses under "Words to know").
GLOSSARY = {
    "Bucharest formula": "NATO's promise at its 2008 Bucharest summit that Ukraine and Georgia will one day "
                         "become members.",
    "MAP": "Membership Action Plan: NATO's programme that prepares a country to join.",
    "9M729": "a Russian cruise missile; the United States said it broke the INF Treaty.",
    "INF": "intermediate-range missiles (500 to 5,500 km), banned by a 1987 U.S.-Soviet treaty that ended in 2019.",
    "quasi-veto": "a power to block decisions in practice, though not in name.",
    "Aegis Ashore": "U.S. missile-defence bases in Romania (Deveselu) and Poland (Redzikowo).",
    "Vienna Document": "a European agreement on announcing military exercises and letting others watch them.",
    "New START": "the U.S.-Russia treaty that limits long-range nuclear weapons.",
    "Minsk II": "the 2015 ceasefire plan for eastern Ukraine.",
    "DPR/LPR": "the two Russian-backed \"people's republics\" in Donetsk and Luhansk, in eastern Ukraine.",
    "NRC": "the NATO-Russia Council, where NATO and Russia meet.",
    "nuclear sharing": "NATO countries that host U.S. nuclear weapons and train to use them.",
    "non-strategic": "nuclear weapons of shorter range, for use on a battlefield.",
    "brigade": "a military unit of a few thousand soldiers.",
    "MFA": "Ministry of Foreign Affairs.",
}

#: The terms a school-level debrief keeps, explained (with :data:`GLOSSARY`'s treaty terms).
DEBRIEF_GLOSSARY = {
    "utility": "how good a result is for a party: 0 = every issue as far from what it wants as possible, "
               "1 = every issue exactly as it wants.",
    "model agent": "the computer, playing a seat by the model's rules.",
    "compromise": "a middle point: each party's wish, counted by how strong the party is and how much it cares.",
    "Nash": "the Nash solution: the deal where the parties' gains over no deal, multiplied together, are "
            "largest. It is one way to split the gains fairly.",
    "belief errors": "the parties do not know each other's wishes exactly; each guesses with small errors.",
}

#: The protocols' names in words (the app's Protocol menu, and the debrief at school level).
PROTOCOL_NAMES = {
    "offers": "Offers and answers (play a seat)",
    "eu": "Expected utility (positions move by challenges)",
    "exchange": "Exchange (trading issues)",
    "all": "All three, side by side",
}

# a bracket that names a source; one that only holds a date is the story's ("rejected the package (17 Feb)")
_SOURCE_NOTE = re.compile(r"\s*\((?=[^()]*(?:draft|Art\.|reply|sources?\b|non-paper))[^()]*\)")


def school_text(text: str) -> str:
    """A text for school students: without the notes saying where a number comes from ("(RU drafts;
    17 Feb)", "sources:"), and True/False as yes/no. Dates in brackets that name no source stay: "Russia
    rejected the package (17 Feb), recognised the DPR/LPR (21 Feb) and invaded (24 Feb)"."""
    text = _SOURCE_NOTE.sub("", text)
    text = re.sub(r"^\s*sources:\s*", "", text)
    text = re.sub(r"\bTrue\b", "yes", re.sub(r"\bFalse\b", "no", text))
    return re.sub(r"\s{2,}", " ", text).strip()


def glossary_for(text: str, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The :data:`GLOSSARY` terms (and ``extra``'s) that ``text`` uses (whole words), in the glossary's order."""
    return {term: meaning for term, meaning in {**GLOSSARY, **(extra or {})}.items()
            if re.search(rf"(?<!\w){re.escape(term)}(?!\w)", text)}
