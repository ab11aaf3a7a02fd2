"""Shipped data sets as scenarios: DEU III, 141 EU legislative proposals (data/deu3/README.md).

:func:`deu3` gives one :class:`~sim.domain.scenario.Scenario` per proposal (its issues form the bundle),
:func:`deu3_issues` one per issue (the per-issue views), :func:`deu3_table` one row per issue with what
was observed (reference point, adopted outcome, procedure, voting rule, date, treaty regime).

How the file becomes scenarios (each choice is also in docs/explanation/validation.md):

* **Absent actors.** An actor with no position on an issue (not a member then, or none recorded) is left
  out of that issue's view. A :class:`Scenario` needs every actor on every issue, so in a proposal's
  bundle such an actor gets salience 0 there (no weight in any model, indifferent to the outcome) and a
  placeholder position (the issue's capability x salience weighted median of the actors present).
  Member states of the period with no position on any issue of a proposal are in its bundle with
  salience 0 everywhere: they vote (and accept anything) under a voting rule, and weigh nothing else.
* **Saliences** 0-100 become 0-1. A position without a salience (54 cells in the shipped file) gets 50.
* **Reference point = status quo.** 103 issues have none. The Commission's position is *not* used in its
  place: the issue's status quo is a placeholder (the c·s-weighted median) marked as missing
  (:data:`sim.domain.csv_import.NO_STATUS_QUO`), so protocols that need a status quo refuse it and the
  benchmark leaves those issues out of every reference-point model, reporting n per model.
* **Procedure and voting rule** go on ``scenario.procedure`` (procedure, voting rule, date, regime) and
  the consent rule on ``scenario.voting`` (:mod:`sim.domain.voting`): the Council's qualified majority of
  the regime in force (:mod:`sim.domain.eu_council`) or unanimity among the member states, with the
  Parliament's consent under co-decision. A proposal with issues under both rules (one in the file)
  takes unanimity. ``QMV(10)`` (2 issues) is read as QMV.
* **Capabilities** are a choice (:data:`CAPABILITIES`, :data:`SUPRANATIONAL`).
"""

from __future__ import annotations

import csv
import datetime as _dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sim.domain import eu_council
from sim.domain.cache import memo
from sim.domain.config import REPO_ROOT
from sim.domain.csv_import import NO_STATUS_QUO
from sim.domain.errors import ConfigError

DEU3_FILE = REPO_ROOT / "data" / "deu3" / "deu3.tsv"
ACTORS = ("com", "ep") + eu_council.STATES
PROCEDURES = ("COD", "CNS")
RULES = {"QMV": "qmv", "QMV(10)": "qmv", "Unan": "unanimity"}
#: Capability of the member states (and, for ``equal`` and ``gdp``, of the Commission and Parliament too).
CAPABILITIES = ("votes", "population", "equal", "gdp")
#: Capability of the Commission and of the Parliament (under co-decision) for ``votes`` and ``population``:
#: ``largest`` as the largest member state; ``council`` as the whole Council (all member states together).
#: Under consultation the Parliament has no formal power: it is left out (capability 0).
SUPRANATIONAL = ("largest", "council")
DEFAULT_SALIENCE = 50.0
_ID_COLUMNS = ("prnr", "prname", "isnr", "type", "council", "proc", "counvte", "intro", "rp", "out")


@dataclass(frozen=True)
class DeuIssue:
    """One issue of the file, validated: who holds which position (0-100) with which salience (0-100)."""

    proposal: str
    issue: str
    name: str
    procedure: str  # COD | CNS
    rule: str  # qmv | unanimity
    rule_code: str  # as in the file: QMV, QMV(10), Unan
    intro: _dt.date
    reference: float | None
    outcome: float | None
    positions: dict[str, float]
    saliences: dict[str, float]  # for the actors with a position; 50 where the file gives none
    imputed: tuple[str, ...]  # actors whose salience was imputed
    row: int  # line in the file


@dataclass(frozen=True)
class DeuData:
    issues: tuple[DeuIssue, ...]
    gdp: dict[str, float]
    source: str


def _number(text: str, source: str, where: str, column: str, low: float = 0.0, high: float = 100.0) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ConfigError(source, f"{where}, column {column}", f"{text!r} is not a number; allowed: {low:g}-{high:g} "
                                                              "or blank") from None
    if not low <= value <= high:
        raise ConfigError(source, f"{where}, column {column}", f"{value:g}; allowed: {low:g}-{high:g} or blank")
    return value


def _date(text: str, source: str, where: str) -> _dt.date:
    """dd-mm-yy or dd-mm-yyyy; or the damaged form yyyy-mm-dd of this copy, in which a spreadsheet read
    dd-mm-yy as yy-mm-dd (``2014-07-04`` is 14 July 2004: day = the last two digits of the "year", year =
    the "day"; the proposal ids, which start with the year, agree on every such row)."""
    import re

    damaged = re.fullmatch(r"(?:19|20)(\d\d)-(\d\d)-(\d\d)", text)
    if damaged:
        text = f"{damaged.group(1)}-{damaged.group(2)}-{damaged.group(3)}"
    for fmt in ("%d-%m-%y", "%d-%m-%Y"):
        try:
            date = _dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
        return date if date.year < 2050 else date.replace(year=date.year - 100)
    raise ConfigError(source, f"{where}, column intro", f"{text!r}; allowed: a date dd-mm-yy or dd-mm-yyyy")


def read_deu3(path: str | Path | None = None) -> DeuData:
    """Read and check the DEU III file (tab-separated: a header, the GDP row, one row per issue).

    Raises:
        ConfigError: naming the file, the row (and issue) and the column of the first bad cell, and what
            is allowed.
    """
    path = Path(path) if path is not None else DEU3_FILE
    if not path.is_file():
        return _read_cached(str(path), 0, 0)
    stat = path.stat()  # the cache is keyed by the file's content stamp, not only its name
    return _read_cached(str(path.resolve()), stat.st_mtime_ns, stat.st_size)


@memo(maxsize=4)
def _read_cached(name: str, mtime: int, size: int) -> DeuData:
    path = Path(name)
    source = str(path.relative_to(REPO_ROOT)) if path.is_relative_to(REPO_ROOT) else str(path)
    if not path.is_file():
        raise ConfigError(source, "file", "no such file; the DEU III data ship in data/deu3/deu3.tsv")
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle, delimiter="\t"))
    if not rows:
        raise ConfigError(source, "header", "the file is empty")
    header = rows[0]
    needed = list(_ID_COLUMNS) + [f"p{a}" for a in ACTORS] + [f"s{a}" for a in ACTORS]
    missing = [c for c in needed if c not in header]
    if missing:
        raise ConfigError(source, "header", f"missing column(s) {', '.join(missing)}; needed: {', '.join(needed)}")
    col = {name: header.index(name) for name in needed}
    if len(rows) < 3:
        raise ConfigError(source, "rows", "needs the GDP row and at least one issue")
    gdp_row = rows[1]
    gdp = {a: _number(gdp_row[col[f"p{a}"]], source, "row 2 (GDP)", f"p{a}", 0.0, 1e9) for a in ACTORS
           if gdp_row[col[f"p{a}"]] != ""}
    if set(gdp) != set(ACTORS):
        raise ConfigError(source, "row 2 (GDP)", f"no GDP figure for {', '.join(a for a in ACTORS if a not in gdp)}")
    issues = []
    seen: set[str] = set()
    for line, row in enumerate(rows[2:], start=3):
        if len(row) != len(header):
            raise ConfigError(source, f"row {line}", f"{len(row)} cells; the header has {len(header)}")
        cell = {name: row[index].strip() for name, index in col.items()}
        where = f"row {line} ({cell['isnr'] or '?'})"
        if not cell["isnr"] or not cell["prnr"]:
            raise ConfigError(source, f"{where}, column isnr", "missing issue or proposal id")
        if cell["isnr"] in seen:
            raise ConfigError(source, f"{where}, column isnr", "a second row for this issue; allowed: one per issue")
        seen.add(cell["isnr"])
        if cell["proc"] not in PROCEDURES:
            raise ConfigError(source, f"{where}, column proc", f"{cell['proc']!r}; allowed: {', '.join(PROCEDURES)}")
        if cell["counvte"] not in RULES:
            raise ConfigError(source, f"{where}, column counvte", f"{cell['counvte']!r}; allowed: {', '.join(RULES)}")
        positions: dict[str, float] = {}
        saliences: dict[str, float] = {}
        imputed = []
        for actor in ACTORS:
            if cell[f"p{actor}"] == "":
                if cell[f"s{actor}"] not in ("", "0"):
                    _number(cell[f"s{actor}"], source, where, f"s{actor}")  # a salience without a position: unused
                continue
            positions[actor] = _number(cell[f"p{actor}"], source, where, f"p{actor}")
            if cell[f"s{actor}"] == "":
                saliences[actor] = DEFAULT_SALIENCE
                imputed.append(actor)
            else:
                saliences[actor] = _number(cell[f"s{actor}"], source, where, f"s{actor}")
        if len(positions) < 2:
            raise ConfigError(source, where, f"{len(positions)} actor(s) with a position; needs at least two")
        issues.append(DeuIssue(
            proposal=cell["prnr"], issue=cell["isnr"], name=cell["prname"], procedure=cell["proc"],
            rule=RULES[cell["counvte"]], rule_code=cell["counvte"], intro=_date(cell["intro"], source, where),
            reference=None if cell["rp"] == "" else _number(cell["rp"], source, where, "rp"),
            outcome=None if cell["out"] == "" else _number(cell["out"], source, where, "out"),
            positions=positions, saliences=saliences, imputed=tuple(imputed), row=line))
    by_proposal: dict[str, list[DeuIssue]] = {}
    for issue in issues:
        by_proposal.setdefault(issue.proposal, []).append(issue)
    for proposal, members in by_proposal.items():
        if len({i.procedure for i in members}) > 1:
            raise ConfigError(source, f"row {members[0].row} ({proposal}), column proc",
                              "issues of one proposal under different procedures; allowed: one procedure per proposal")
    return DeuData(issues=tuple(issues), gdp=gdp, source=source)


def _check_choice(capability: str, supranational: str, source: str = "configs/benchmark/deu.yaml") -> None:
    if capability not in CAPABILITIES:
        raise ConfigError(source, "benchmark.capability", f"{capability!r}; allowed: {', '.join(CAPABILITIES)}")
    if supranational not in SUPRANATIONAL:
        raise ConfigError(source, "benchmark.supranational",
                          f"{supranational!r}; allowed: {', '.join(SUPRANATIONAL)}")


def proposal_facts(issues: list[DeuIssue]) -> dict[str, Any]:
    """A proposal's procedure, voting rule, date, treaty regime and member states."""
    intro = min(i.intro for i in issues)
    present = {a for i in issues for a in i.positions if a in eu_council.STATES}
    members = tuple(s for s in eu_council.STATES if s in present or s in eu_council.members_on(intro))
    regime = eu_council.regime_on(intro)
    if regime == "amsterdam" and any(s not in eu_council.AMSTERDAM_WEIGHTS for s in members):
        regime = "nice"  # negotiated with members who joined later: the regime that has their votes
    rule = "unanimity" if any(i.rule == "unanimity" for i in issues) else "qmv"
    return {"procedure": issues[0].procedure, "rule": rule, "intro": intro.isoformat(), "regime": regime,
            "members": list(members)}


def capabilities(facts: dict[str, Any], gdp: dict[str, float], capability: str = "votes",
                 supranational: str = "largest") -> dict[str, float]:
    """Every actor's capability on one proposal (the Parliament missing under consultation, except for
    ``equal`` and ``gdp``, which give every actor its figure)."""
    _check_choice(capability, supranational)
    members = facts["members"]
    if capability == "equal":
        return {a: 1.0 for a in ("com", "ep", *members)}
    if capability == "gdp":
        return {a: float(gdp[a]) for a in ("com", "ep", *members)}
    if capability == "votes":
        weights = eu_council.council_weights("nice" if facts["regime"] == "lisbon" else facts["regime"])
        states = {s: float(weights[s]) for s in members}
    else:
        states = {s: float(eu_council.POPULATION[s]) for s in members}
    institution = max(states.values()) if supranational == "largest" else sum(states.values())
    out = {"com": institution, **states}
    if facts["procedure"] == "COD":
        out["ep"] = institution
    return out


def voting_rule(facts: dict[str, Any], actors: list[str]) -> dict[str, Any]:
    """The proposal's consent rule as the scenario key ``voting``: the Council's qualified majority of the
    regime, or unanimity of the member states; the Parliament's consent under co-decision."""
    members = tuple(facts["members"])
    quotas = (eu_council.qmv_quotas(facts["regime"], members) if facts["rule"] == "qmv"
              else {"members": {"share": 1.0}})
    required = ["ep"] if facts["procedure"] == "COD" and "ep" in actors else []
    return {"required": required, "voters": list(members), "quotas": quotas}


def _weighted_median(values: list[float], weights: list[float]) -> float:
    order = np.argsort(values, kind="stable")
    x, w = np.asarray(values)[order], np.asarray(weights)[order]
    if w.sum() <= 0:
        return float(np.median(x))
    cumulative = np.cumsum(w)
    half = 0.5 * cumulative[-1]
    first = int(np.argmax(cumulative >= half - 1e-12 * cumulative[-1]))
    if abs(cumulative[first] - half) <= 1e-12 * cumulative[-1] and first < len(x) - 1:
        return float(0.5 * (x[first] + x[first + 1]))
    return float(x[first])


def _issue_cfg(issue: DeuIssue, caps: dict[str, float]) -> tuple[dict[str, Any], float]:
    present = [a for a in issue.positions if a in caps]
    middle = _weighted_median([issue.positions[a] for a in present],
                              [caps[a] * issue.saliences[a] for a in present])
    cfg = {"label": f"{issue.name}: issue {issue.issue}", "scale": [0.0, 100.0],
           "status_quo": middle if issue.reference is None else issue.reference,
           "note": NO_STATUS_QUO if issue.reference is None else "reference point (DEU III rp)"}
    return cfg, middle


def deu3(path: str | Path | None = None, capability: str = "votes", supranational: str = "largest",
         proposals: int | None = None) -> tuple:
    """One scenario per proposal (its issues the bundle), in the file's order; ``proposals``: the first n."""
    data = read_deu3(path)
    return tuple(_proposal_scenario(data, pid, capability, supranational)
                 for pid in _proposal_ids(data)[:proposals])


def deu3_issues(path: str | Path | None = None, capability: str = "votes", supranational: str = "largest",
                proposals: int | None = None) -> tuple:
    """One scenario per issue: only the actors with a position on it (the per-issue views)."""
    data = read_deu3(path)
    return tuple(_issue_scenario(data, issue, capability, supranational)
                 for pid in _proposal_ids(data)[:proposals] for issue in data.issues if issue.proposal == pid)


def deu3_table(path: str | Path | None = None) -> "Any":
    """One row per issue: proposal, issue, name, procedure, rule (and as coded), intro date, regime,
    reference point, outcome, actors with a position, imputed saliences."""
    import pandas as pd

    data = read_deu3(path)
    rows = []
    for pid in _proposal_ids(data):
        members = [i for i in data.issues if i.proposal == pid]
        facts = proposal_facts(members)
        for issue in members:
            rows.append({"proposal": pid, "issue": issue.issue, "name": issue.name, "procedure": issue.procedure,
                         "rule": issue.rule, "rule_code": issue.rule_code, "proposal_rule": facts["rule"],
                         "intro": issue.intro.isoformat(), "regime": facts["regime"], "reference": issue.reference,
                         "outcome": issue.outcome, "actors": len(issue.positions),
                         "imputed_saliences": len(issue.imputed), "issues_in_proposal": len(members)})
    return pd.DataFrame(rows)


def _proposal_ids(data: DeuData) -> list[str]:
    return list(dict.fromkeys(i.proposal for i in data.issues))


def _proposal_scenario(data: DeuData, pid: str, capability: str, supranational: str):
    from sim.domain.scenario import build_scenario

    members = [i for i in data.issues if i.proposal == pid]
    facts = proposal_facts(members)
    caps = capabilities(facts, data.gdp, capability, supranational)
    actors = [a for a in ACTORS if a in caps and (a in facts["members"] or any(a in i.positions for i in members))]
    issues, placeholder = {}, {}
    for issue in members:
        issues[issue.issue], placeholder[issue.issue] = _issue_cfg(issue, caps)
    actors_cfg = {a: {"name": a, "capability": caps[a],
                      "position": {i.issue: i.positions.get(a, placeholder[i.issue]) for i in members},
                      "salience": {i.issue: (i.saliences[a] / 100.0 if a in i.positions else 0.0) for i in members}}
                  for a in actors}
    data_cfg = {"id": pid, "name": f"DEU III {pid} ({members[0].name})", "source": data.source,
                "issues": issues, "actors": actors_cfg, "procedure": facts,
                "voting": voting_rule(facts, actors)}
    return build_scenario(data_cfg, data.source)


def _issue_scenario(data: DeuData, issue: DeuIssue, capability: str, supranational: str):
    from sim.domain.scenario import build_scenario

    facts = proposal_facts([i for i in data.issues if i.proposal == issue.proposal])
    caps = capabilities(facts, data.gdp, capability, supranational)
    actors = [a for a in ACTORS if a in issue.positions and a in caps]
    cfg, _ = _issue_cfg(issue, caps)
    actors_cfg = {a: {"name": a, "capability": caps[a], "position": {issue.issue: issue.positions[a]},
                      "salience": {issue.issue: issue.saliences[a] / 100.0}} for a in actors}
    return build_scenario({"id": issue.issue, "name": f"DEU III {issue.issue}", "source": data.source,
                           "issues": {issue.issue: cfg}, "actors": actors_cfg,
                           "procedure": {**facts, "issue_rule": issue.rule}}, data.source)
