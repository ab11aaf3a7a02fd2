"""The record's four test targets for jan2022 (docs/explanation/why-talks-fail.md, "The record's test
targets"; sources §3.2): which follow from the declared inputs and which emerge from bargaining, and how often.

Each claim of a target is measured by seeded runs in two conditions: with the declared rules that would
force it (jan2022 as the target states it), and without them (only those rules removed, everything else as
before). A claim that holds in every run with those rules and not without them *follows from the declared
inputs*; a claim that holds without them, or that no rule forces, *emerges from bargaining* (the model's
preferences), with the frequency measured. Every run is ``offers`` with recognition order, belief noise 0.1
and 12 rounds, as the record's tests (tests/integration/test_why_talks_fail.py); the no-agreement claim of
(a) is measured under ``eu`` and ``exchange`` too.

    python -m experiments.targets            # 50 seeds per condition, the table of the docs
    python -m experiments.targets --seeds 20
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Callable, Mapping, Sequence

import pandas as pd

from sim.domain.config import CONFIG_DIR
from sim.domain.scenario import Scenario, scenario_from_config

SETTINGS = {"protocol": "offers", "rounds": 12,
            "protocol_params": {"order": "recognition", "belief_noise": 0.1}}
SEEDS = 50
CORE = ("enlargement", "ukraine_military", "force_posture")
SECONDARY = ("missiles", "inspections", "drills", "channels")
OPEN_DOOR, NEUTRALITY = 75, 25


@lru_cache(maxsize=1)
def _jan2022() -> dict:
    from omegaconf import OmegaConf

    from sim.runs.configs import load_with_defaults

    return OmegaConf.to_container(load_with_defaults(CONFIG_DIR / "scenario" / "jan2022.yaml"))


def jan2022(package: bool = True, red_lines: bool = True, drop: Sequence[str] = (),
            russia_cost: float | None = None, ukraine_war_cost: float | None = None,
            bilateral: bool = False) -> Scenario:
    """jan2022 with changes: ``package`` / ``red_lines`` the rules; ``drop`` red lines removed by
    ``actor.issue``; ``russia_cost`` Russia's cost of war; ``ukraine_war_cost`` gives Ukraine a war option
    against Russia (optimism 3, its resolve: sources §5) at that cost; ``bilateral`` leaves Russia and
    Ukraine alone at the table (the Istanbul format of March 2022)."""
    import copy

    node = copy.deepcopy(_jan2022())
    node["rules"]["package"], node["rules"]["red_lines"] = package, red_lines
    for line in drop:
        actor, issue = line.split(".")
        del node["actors"][actor]["red_lines"][issue]
    if russia_cost is not None:
        node["actors"]["russia"]["outside_option"]["cost"] = russia_cost
    if ukraine_war_cost is not None:
        node["actors"]["ukraine"]["outside_option"] = {"kind": "war", "opponents": ["russia"], "optimism": 3.0,
                                                       "cost": ukraine_war_cost}
    if bilateral:
        for actor in ("usa", "nato"):
            del node["actors"][actor]
        node["id"] = "jan2022_istanbul"
        node["actors"]["russia"]["outside_option"]["opponents"] = ["ukraine"]
    return scenario_from_config(node)


@dataclass(frozen=True)
class Condition:
    """A scenario variant and the protocol it is run under."""

    label: str
    scenario: Callable[[], Scenario]
    protocol: str = "offers"


#: The conditions the claims are measured in (label -> condition).
CONDITIONS: dict[str, Condition] = {c.label: c for c in (
    Condition("jan2022 (documented rules)", jan2022),
    Condition("no red lines", lambda: jan2022(red_lines=False)),
    Condition("no package rule", lambda: jan2022(package=False)),
    Condition("no package rule, no red lines", lambda: jan2022(package=False, red_lines=False)),
    Condition("jan2022 under eu", jan2022, "eu"),
    Condition("no red lines, eu", lambda: jan2022(red_lines=False), "eu"),
    Condition("no package rule, eu", lambda: jan2022(package=False), "eu"),
    Condition("no package rule, no red lines, eu", lambda: jan2022(package=False, red_lines=False), "eu"),
    Condition("jan2022 under exchange", jan2022, "exchange"),
    Condition("no red lines, exchange", lambda: jan2022(red_lines=False), "exchange"),
    Condition("no package rule, exchange", lambda: jan2022(package=False), "exchange"),
    Condition("no package rule, no red lines, exchange", lambda: jan2022(package=False, red_lines=False),
              "exchange"),
    Condition("no package rule, no enlargement red lines",
              lambda: jan2022(package=False, drop=("usa.enlargement", "nato.enlargement", "russia.enlargement"))),
    Condition("no package rule, no NATO force-posture red line",
              lambda: jan2022(package=False, drop=("nato.force_posture",))),
    Condition("no package rule, no U.S. Ukraine-military red line",
              lambda: jan2022(package=False, drop=("usa.ukraine_military",))),
    Condition("Russia's war below its status quo (cost 0.3)", lambda: jan2022(russia_cost=0.3)),
    Condition("Russia-Ukraine, Ukraine's war cost 0", lambda: jan2022(ukraine_war_cost=0.0, bilateral=True)),
    Condition("Russia-Ukraine, Ukraine's war cost 0.5", lambda: jan2022(ukraine_war_cost=0.5, bilateral=True)),
    Condition("Russia-Ukraine, Ukraine's war cost 0.5, no package rule, no red lines",
              lambda: jan2022(ukraine_war_cost=0.5, bilateral=True, package=False, red_lines=False)),
    Condition("no package rule, Ukraine's war cost 0.5", lambda: jan2022(package=False, ukraine_war_cost=0.5)),
    Condition("no package rule, Ukraine's war cost 0.5, no Western enlargement red lines",
              lambda: jan2022(package=False, ukraine_war_cost=0.5, drop=("usa.enlargement", "nato.enlargement"))),
)}


def _agreed(rows: pd.DataFrame) -> pd.DataFrame:
    return rows[rows["agreement"].astype(bool)]


def _package_unmet(rows: pd.DataFrame) -> pd.Series:
    """Russia's package rule (a salience-weighted mean of the core at most 35) not met by the outcome."""
    scenario = jan2022()
    weights, _, upper = scenario.package_rows
    russia = scenario.actor_ids.index("russia")
    bundles = rows[[f"outcome_{i}" for i in scenario.issue_ids]].to_numpy(float)
    return pd.Series(bundles @ weights[russia] > upper[russia], index=rows.index)


def _moves_secondary(rows: pd.DataFrame) -> pd.Series:
    scenario = jan2022()
    return pd.concat([rows[f"outcome_{i}"] != scenario.issue(i).status_quo for i in SECONDARY], axis=1).any(axis=1)


@dataclass(frozen=True)
class Claim:
    """One claim of a target. ``holds`` says, per run (``over`` = "runs") or per agreement ("agreements"),
    whether the claim holds there; the claim holds in a condition when it does in at least ``at_least`` of
    them (1: always, as "never below the open door"; less for "deals are reached"). ``forced_by`` names the
    declared inputs that force it ("" when none does). Measured in the ``with_`` condition and in each
    ``without`` condition (some or all of those inputs removed; for a claim nothing forces, a comparison). A
    forced claim that fails in some condition without its inputs follows from them; one that holds in every
    such condition emerges from bargaining."""

    key: str
    target: str
    text: str
    forced_by: str
    with_: str
    without: tuple[str, ...]
    holds: Callable[[pd.DataFrame], pd.Series]
    over: str = "agreements"
    at_least: float = 1.0


def _no_agreement(rows: pd.DataFrame) -> pd.Series:
    return ~rows["agreement"].astype(bool)


RULES = "the red lines and Russia's package rule (with both, no bundle meets every rule: deal gap 23.9 points)"

CLAIMS: tuple[Claim, ...] = (
    Claim("a_offers", "(a)", "with the documented rules, no agreement at all: offers", RULES,
          "jan2022 (documented rules)", ("no red lines", "no package rule", "no package rule, no red lines"),
          _no_agreement, "runs"),
    Claim("a_eu", "(a)", "with the documented rules, no agreement at all: eu", RULES,
          "jan2022 under eu", ("no red lines, eu", "no package rule, eu", "no package rule, no red lines, eu"),
          _no_agreement, "runs"),
    Claim("a_exchange", "(a)", "with the documented rules, no agreement at all: exchange", RULES,
          "jan2022 under exchange", ("no red lines, exchange", "no package rule, exchange",
                                     "no package rule, no red lines, exchange"), _no_agreement, "runs"),
    Claim("b_deals", "(b)", "without the package rule, partial agreements moving a secondary issue are reached "
          "(in at least 10% of runs)", "", "no package rule", (),
          lambda r: r["agreement"].astype(bool) & _moves_secondary(r), "runs", 0.10),
    Claim("b_enlargement", "(b)", "... with enlargement at the open door (75)",
          "the enlargement red lines: U.S. and NATO >= 75, Russia <= 75", "no package rule",
          ("no package rule, no enlargement red lines",), lambda r: r["outcome_enlargement"] == OPEN_DOOR),
    Claim("b_posture", "(b)", "... force posture not below the status quo (>= 50)",
          "NATO's force-posture red line >= 50", "no package rule",
          ("no package rule, no NATO force-posture red line",), lambda r: r["outcome_force_posture"] >= 50),
    Claim("b_ukraine_military", "(b)", "... Ukraine military within what the West offered (>= 50)",
          "the U.S. Ukraine-military red line >= 50", "no package rule",
          ("no package rule, no U.S. Ukraine-military red line",), lambda r: r["outcome_ukraine_military"] >= 50),
    Claim("b_package", "(b)", "... and Russia's package unmet",
          "the West's red lines: they hold the package mean at >= 58.9 > 35", "no package rule",
          ("no package rule, no red lines",), _package_unmet),
    Claim("c_walkout", "(c)", "with the package rule, Russia walks out in round 1, before any offer, into war",
          "the red lines and package rule (no bundle, so Russia expects nothing) and Russia's war value 0.399 "
          "above its status quo 0.383", "jan2022 (documented rules)",
          ("Russia's war below its status quo (cost 0.3)", "no package rule"),
          lambda r: r["breakdown_cause"].str.startswith("walkout:russia") & (r["rounds"] == 1)
          & (r["ending"] == "war"), "runs"),
    Claim("d_cheap", "(d)", "Russia-Ukraine talks, Ukraine's war cost 0: no neutrality deal (enlargement <= 25)", "",
          "Russia-Ukraine, Ukraine's war cost 0", (),
          lambda r: ~(r["agreement"].astype(bool) & (r["outcome_enlargement"] <= NEUTRALITY)), "runs"),
    Claim("d_costly", "(d)", "Russia-Ukraine talks, Ukraine's war cost 0.5: Ukraine accepts neutrality with "
          "guarantees (enlargement <= 25; in at least 15% of runs)", "", "Russia-Ukraine, Ukraine's war cost 0.5",
          ("Russia-Ukraine, Ukraine's war cost 0.5, no package rule, no red lines",),
          lambda r: r["agreement"].astype(bool) & (r["outcome_enlargement"] <= NEUTRALITY), "runs", 0.15),
    Claim("d_west", "(d)", "the same pressure on Ukraine, all four at the table: the U.S. and NATO never accept "
          "less than the open door", "the U.S. and NATO enlargement red lines >= 75",
          "no package rule, Ukraine's war cost 0.5",
          ("no package rule, Ukraine's war cost 0.5, no Western enlargement red lines",),
          lambda r: r["outcome_enlargement"] >= OPEN_DOOR),
)


def condition_runs(label: str, seeds: int = SEEDS) -> pd.DataFrame:
    """The outcome rows of ``seeds`` seeded runs (0, 1, ...) of one condition."""
    from sim.runs.runner import run

    condition = CONDITIONS[label]
    scenario = condition.scenario()
    settings = SETTINGS if condition.protocol == "offers" else {"protocol": condition.protocol, "rounds": 20}
    rows = [run(scenario, seed=seed, record_rounds=False, record_events=False, **settings).runs.iloc[0]
            for seed in range(seeds)]
    return pd.DataFrame(rows).reset_index(drop=True)


def measure(seeds: int = SEEDS, runs: Mapping[str, pd.DataFrame] | None = None) -> pd.DataFrame:
    """One row per claim: key, target, claim, the inputs that force it, how often it holds with them and
    without them ((count, out of) per condition, over runs or agreements), whether it holds in each, and
    the verdict. ``runs``: condition label -> rows already run (the others are run here)."""
    runs = dict(runs or {})
    for label in CONDITIONS:
        if label not in runs:
            runs[label] = condition_runs(label, seeds)
    out = []
    for claim in CLAIMS:
        counts = {}
        for label in (claim.with_, *claim.without):
            frame = runs[label] if claim.over == "runs" else _agreed(runs[label])
            counts[label] = (int(claim.holds(frame).sum()) if len(frame) else 0, len(frame))
        held = {label: holds(count, claim.at_least) for label, count in counts.items()}
        out.append({"key": claim.key, "target": claim.target, "claim": claim.text, "forced_by": claim.forced_by,
                    "over": claim.over, "with": claim.with_, "with_count": counts[claim.with_],
                    "holds_with": held[claim.with_],
                    "without": {label: counts[label] for label in claim.without},
                    "holds_without": {label: held[label] for label in claim.without},
                    "verdict": verdict(claim, held)})
    return pd.DataFrame(out)


def holds(count: tuple[int, int], at_least: float) -> bool:
    """A claim holds in a condition: in at least ``at_least`` of its runs or deals (none: it cannot)."""
    hits, total = count
    return total > 0 and hits >= at_least * total - 1e-12


def verdict(claim: Claim, held: Mapping[str, bool]) -> str:
    """"follows from declared inputs", "emerges from bargaining", or "not reproduced"."""
    if not held[claim.with_]:
        return "not reproduced"
    if not claim.forced_by:
        return "emerges from bargaining"
    if all(held[label] for label in claim.without):
        return "emerges from bargaining (holds without those inputs too)"
    return "follows from declared inputs"


def share(count: tuple[int, int], over: str) -> str:
    hits, total = count
    unit = "runs" if over == "runs" else "deals"
    return f"no {unit}" if total == 0 else f"{hits}/{total} {unit} ({hits / total:.0%})"


def targets_markdown(table: pd.DataFrame, seeds: int = SEEDS) -> str:
    """The table of docs/explanation/why-talks-fail.md: target, claim, the declared inputs that force it,
    how often it holds with them and without them, and the verdict."""
    lines = [f"| target | claim | declared inputs that force it | holds (condition; {seeds} seeds each) | "
             "holds without those inputs | verdict |",
             "|---|---|---|---|---|---|"]
    for _, row in table.iterrows():
        without = "; ".join(f"{share(count, row['over'])} ({label})" for label, count in row["without"].items())
        lines.append(f"| {row['target']} | {row['claim']} | {row['forced_by'] or 'none'} | "
                     f"{share(row['with_count'], row['over'])} ({row['with']}) | {without or '–'} | {row['verdict']} |")
    return "\n".join(lines)


def holds_without(table: pd.DataFrame, key: str) -> bool:
    """Whether claim ``key`` is reproduced by the model's preferences: it holds in every condition without
    the inputs that force it, or, when no input forces it, in its own condition."""
    row = table.set_index("key").loc[key]
    return all(row["holds_without"].values()) if row["forced_by"] else bool(row["holds_with"])


__all__ = ["CLAIMS", "CONDITIONS", "SEEDS", "SETTINGS", "condition_runs", "holds_without", "jan2022", "measure",
           "targets_markdown"]
