"""Pure functions from a finished model to one flat outcome row (MODEL.md §6), and the per-issue
reference table that figures mark."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Sequence

import numpy as np
import pandas as pd

from sim.kernels.solutions import (bargaining_range, bargaining_range_empty, kalai_smorodinsky, nash_solution, no_gain_actors, pareto_check, scenario_compromise, scenario_median)
from sim.kernels.deal_gap import scenario_deal_gap
from sim.kernels.utility import (scenario_utilities, scenario_values, status_quo_values, war_attacked_by,
                                 war_preferred, war_values)

if TYPE_CHECKING:  # pragma: no cover
    from sim.engine.model import BargainingModel
    from sim.engine.protocols.base import ProtocolOutcome
    from sim.domain.scenario import Scenario


def bundle_distance(a: np.ndarray, b: np.ndarray, spans: np.ndarray) -> float:
    """Root-mean-square difference per issue as a share of each issue's scale, in [0, 1]."""
    return float(np.sqrt(np.mean(((np.asarray(a) - np.asarray(b)) / spans) ** 2)))


def nash_product(values: np.ndarray, disagreement: np.ndarray, alpha: np.ndarray) -> float:
    """Π_i (u_i − d_i)^{α_i}, 0 when someone is below its disagreement value."""
    surplus = values - disagreement
    if np.any(surplus < 0):
        return 0.0
    return float(np.prod(surplus ** alpha))


def ending(scenario: "Scenario", agreement: bool, round_index: int = 0) -> str:
    """What a run ends in: ``agreement``, else what the outside options make of a breakdown in round
    ``round_index`` — ``war`` when an actor that holds a war option prefers it to the status quo then
    (its war value above its utility of the status quo: :func:`sim.kernels.utility.war_preferred`) and so
    starts it; otherwise no war: ``reservation`` when some actor has a reservation value, else
    ``status_quo`` (no deal and no war; docs/explanation/why-talks-fail.md, "Endings")."""
    if agreement:
        return "agreement"
    if war_preferred(scenario, round_index).any():
        return "war"
    kinds = {a.outside_option.kind for a in scenario.actors}
    return "reservation" if "reservation" in kinds else "status_quo"


def ending_reason(scenario: "Scenario", agreement: bool, round_index: int = 0, digits: int = 3) -> str:
    """Why a breakdown did or did not end in war, in words, for the actors that hold a war option:
    "war: Russia's war value 0.399 is above its status quo 0.383", or "no war: Russia's war value 0.199 is
    below its status quo 0.383" (those that start the war first; a war-holder attacked by one that does
    "fights the war Russia starts"). "" after an agreement or when nobody holds a war option."""
    war = war_values(scenario, round_index)
    holders = np.flatnonzero(~np.isnan(war))
    if agreement or holders.size == 0:
        return ""
    status_quo = status_quo_values(scenario)
    starts = war_preferred(scenario, round_index)
    attackers = war_attacked_by(scenario, round_index)

    def name(i: int) -> str:
        return scenario.actors[i].name or scenario.actors[i].id

    def clause(i: int) -> str:
        relation = "above" if starts[i] else "not above" if war[i] >= status_quo[i] else "below"
        text = name(i) + ("'" if name(i).endswith("s") else "'s")
        text += f" war value {war[i]:.{digits}f} is {relation} its status quo {status_quo[i]:.{digits}f}"
        if not starts[i] and attackers[i]:
            text += f", but it fights the war {' and '.join(name(j) for j in attackers[i])} starts"
        return text

    order = sorted(holders, key=lambda i: not starts[i])
    return ("war: " if starts.any() else "no war: ") + "; ".join(clause(int(i)) for i in order)


#: The reference columns of an outcome row, by what computes them (sim/kernels/solutions.py,
#: sim/kernels/deal_gap.py), each with the value a row that skips it holds: NaN in a number's column, None in
#: a text's or a flag's. A run specification says which it needs (``RunSpec.references``); a calibration's
#: distance needs none (docs/performance.md, "Compute only what is asked for").
REFERENCES: dict[str, dict[str, Any]] = {
    "nash": {"distance_to_nash": np.nan, "nash_no_gain": None},
    "pareto": {"pareto_efficient": None, "distance_to_pareto": np.nan},
    "range": {"bargaining_range": np.nan, "bargaining_range_empty": None},
    "deal_gap": {"deal_gap": np.nan, "deal_gap_rules": None},
}


def check_references(references: Any, source: str = "run specification",
                     key: str = "references") -> tuple[str, ...] | None:
    """``references`` as a sorted tuple of :data:`REFERENCES` names (None, or "all": every one).

    Raises:
        ConfigError: an unknown name.
    """
    if references is None or references == "all":
        return None
    from sim.domain.errors import ConfigError

    names = (references,) if isinstance(references, str) else tuple(references)
    for name in names:
        if name not in REFERENCES:
            raise ConfigError(source, key, f"unknown reference {name!r}; allowed: "
                                                    f"{', '.join(REFERENCES)} (or all)")
    return tuple(sorted(set(names)))


def outcome(model: "BargainingModel", seed: Any = None, config_hash: str = "",
            references: tuple[str, ...] | None = None) -> dict[str, Any]:
    """One flat row describing a finished run (MODEL.md §6).

    Columns: scenario, protocol, protocol parameters, seed, config_hash, agreement, ending, ending_reason,
    rounds, breakdown_cause, breakdown_causes, red_lines_crossed, outcome_<issue>, bundle_<issue>,
    utility_<actor>, disagreement_<actor>, war_value_<actor> (actors with a war option), nash_product,
    distance_to_nash, nash_no_gain, pareto_efficient, distance_to_pareto, bargaining_range,
    bargaining_range_empty, deal_gap (points; 0 when some bundle meets every declared rule and outside
    option of the actors whose consent is needed) and deal_gap_rules (the rules of the least relaxation
    that opens a deal; sim/kernels/deal_gap.py).

    After a breakdown the row says what each actor gets, not a peace that did not happen: utility_<a>
    is its outside option d_a (status quo, reservation, or the war lottery of an actor that prefers war to
    the status quo) in the round talks ended; outcome_<issue> is the status quo, or NaN when the breakdown
    means war (:func:`ending`). war_value_<a> is the war lottery's value in that round, whether or not
    the actor starts the war. bundle_<issue> is the
    bundle on the table either way: the agreement, the eu/exchange forecast, or the last offer. ``red_lines_crossed`` lists
    every declared red line (binding or not) that the bundle on the table crosses: the agreement, or
    what was on the table when talks broke down.

    ``references``: the groups of :data:`REFERENCES` to compute (None: all). The columns of a skipped group
    are in the row all the same, in the same place, holding NaN or None: rows of one specification have
    the same columns whatever they skip, and a skipped reference is never computed (nor its cache filled).
    """
    wanted = set(REFERENCES) if references is None else set(references)
    scenario = model.negotiation
    result = model.outcome()
    table = np.asarray(result.bundle, dtype=float)
    t = model.round if result.round_index is None else result.round_index
    d_now = model.disagreement_at(t)
    end = ending(scenario, result.agreement, t)
    if result.agreement:
        bundle = table
        values = scenario_values(scenario, bundle, t)
    else:
        bundle = np.full(scenario.n_issues, np.nan) if end == "war" else scenario.status_quo.copy()
        values = d_now.copy()
    d = model.disagreement
    row: dict[str, Any] = {
        **model.describe(),
        "seed": seed,
        "config_hash": config_hash,
        "agreement": bool(result.agreement),
        "ending": end,
        "ending_reason": ending_reason(scenario, result.agreement, t),
        "rounds": int(model.round),
        "breakdown_cause": result.breakdown_cause,
        "breakdown_causes": "; ".join(result.causes),
        "red_lines_crossed": ",".join(scenario.crossed_red_lines(table)),
    }
    row.update({f"outcome_{issue}": float(v) for issue, v in zip(scenario.issue_ids, bundle)})
    row.update({f"bundle_{issue}": float(v) for issue, v in zip(scenario.issue_ids, table)})
    row.update({f"utility_{actor}": float(v) for actor, v in zip(scenario.actor_ids, values)})
    row.update({f"disagreement_{actor}": float(v) for actor, v in zip(scenario.actor_ids, d)})
    row.update({f"war_value_{actor}": float(v) for actor, v in zip(scenario.actor_ids, war_values(scenario, t))
                if not np.isnan(v)})
    row["nash_product"] = nash_product(values, d_now, scenario.capabilities) if result.agreement else 0.0
    row.update(REFERENCES["nash"])
    row.update(REFERENCES["pareto"])
    row.update(REFERENCES["range"])
    row.update(REFERENCES["deal_gap"])
    if "nash" in wanted:
        nash = nash_solution(scenario, d)
        row["distance_to_nash"] = np.nan if nash is None or end == "war" else bundle_distance(bundle, nash, scenario.spans)
        row["nash_no_gain"] = ",".join(no_gain_actors(scenario, d))
    if "pareto" in wanted:
        check = pareto_check(scenario, bundle) if end != "war" else None
        row["pareto_efficient"] = False if check is None else bool(check.efficient)
        row["distance_to_pareto"] = np.nan if check is None else float(check.distance)
    if "range" in wanted:
        row["bargaining_range"] = bargaining_range(scenario, d)
        row["bargaining_range_empty"] = bargaining_range_empty(scenario, d)
    if "deal_gap" in wanted:
        # the declared inputs' gap (round 0); a row needs only the least relaxation, not the alternatives
        gap = scenario_deal_gap(scenario, model.protocol.deal_consent(), alternatives=0)
        row.update({"deal_gap": gap.gap, "deal_gap_rules": gap.rules})
    return row


def outcome_rows(model: "BargainingModel", results: "Sequence[ProtocolOutcome]", rounds: np.ndarray,
                 seeds: Sequence[Any], config_hash: str = "",
                 references: tuple[str, ...] | None = None) -> list[dict[str, Any]]:
    """The :func:`outcome` rows of many finished runs of one specification at once: run r ended with
    ``results[r]`` (its protocol's outcome) after ``rounds[r]`` rounds, seeded ``seeds[r]``; ``model`` is
    one model of the specification (its scenario, protocol and settings; its state is not read). Each row
    is, value for value and in the same column order, what :func:`outcome` gives on that run's model
    (``tests/integration/test_batch.py``): what depends only on the round talks ended in (the ending and
    its reason, the disagreement and war values) is computed once per round, what depends only on the
    specification (the reference solutions of the disagreement point, the deal gap) once, and the rest
    (values of agreements, red lines crossed, distances) for all runs as arrays."""
    wanted = set(REFERENCES) if references is None else set(references)
    scenario = model.negotiation
    runs = len(results)
    if runs == 0:
        return []
    rounds = np.asarray(rounds, dtype=int)
    rounds_at = np.array([int(rounds[r]) if res.round_index is None else int(res.round_index)
                          for r, res in enumerate(results)], dtype=int)
    agreement = np.array([bool(res.agreement) for res in results])
    table = np.array([np.asarray(res.bundle, dtype=float) for res in results]).reshape(runs, scenario.n_issues)
    d = model.disagreement
    describe = model.describe()
    issues, actors = list(scenario.issue_ids), list(scenario.actor_ids)

    by_round: dict[tuple[int, bool], dict[str, Any]] = {}  # what the round and agreement decide

    def at(t: int, agreed: bool) -> dict[str, Any]:
        key = (t, agreed)
        if key not in by_round:
            end = ending(scenario, agreed, t)
            war = war_values(scenario, t)
            by_round[key] = {"end": end, "reason": ending_reason(scenario, agreed, t),
                             "d_now": model.disagreement_at(t),
                             "war": {f"war_value_{a}": float(v) for a, v in zip(actors, war) if not np.isnan(v)}}
        return by_round[key]

    shared = [at(int(t), bool(a)) for t, a in zip(rounds_at, agreement)]
    war_end = np.array([s["end"] == "war" for s in shared])
    # The bundle each row reports: the agreement, else the status quo (NaN after a war).
    bundle = np.where(agreement[:, None], table, np.where(war_end[:, None], np.nan, scenario.status_quo))
    values = np.empty((runs, scenario.n_actors))
    for t in np.unique(rounds_at[agreement]):  # values of agreements, one call per round (bundles (M, K))
        chosen = np.flatnonzero(agreement & (rounds_at == t))
        values[chosen] = scenario_values(scenario, table[chosen], int(t)).T
    for r in np.flatnonzero(~agreement):
        values[r] = shared[r]["d_now"]
    crossed = _crossed_red_lines(scenario, table)
    nash_products = np.zeros(runs)
    for r in np.flatnonzero(agreement):
        nash_products[r] = nash_product(values[r], shared[r]["d_now"], scenario.capabilities)
    if "nash" in wanted:
        nash = nash_solution(scenario, d)
        no_gain = ",".join(no_gain_actors(scenario, d))
        if nash is not None:
            distances = np.sqrt(np.mean(((bundle - nash) / scenario.spans) ** 2, axis=-1))
    if "pareto" in wanted:
        checks = {}  # by bundle: agreements repeat, breakdowns all report the status quo
        pareto = []
        for r in range(runs):
            if war_end[r]:
                pareto.append((False, np.nan))
                continue
            key = bundle[r].tobytes()
            if key not in checks:
                check = pareto_check(scenario, bundle[r])
                checks[key] = (bool(check.efficient), float(check.distance))
            pareto.append(checks[key])
    if "range" in wanted:
        ranges = (bargaining_range(scenario, d), bargaining_range_empty(scenario, d))
    if "deal_gap" in wanted:
        gap = scenario_deal_gap(scenario, model.protocol.deal_consent(), alternatives=0)
    outcome_names = [f"outcome_{issue}" for issue in issues]
    bundle_names = [f"bundle_{issue}" for issue in issues]
    utility_names = [f"utility_{actor}" for actor in actors]
    disagreement = {f"disagreement_{actor}": float(v) for actor, v in zip(actors, d)}
    bundle_list, table_list, value_list = bundle.tolist(), table.tolist(), values.tolist()
    rows = []
    for r, result in enumerate(results):
        here = shared[r]
        row: dict[str, Any] = {
            **describe,
            "seed": seeds[r],
            "config_hash": config_hash,
            "agreement": bool(agreement[r]),
            "ending": here["end"],
            "ending_reason": here["reason"],
            "rounds": int(rounds[r]),
            "breakdown_cause": result.breakdown_cause,
            "breakdown_causes": "; ".join(result.causes),
            "red_lines_crossed": crossed[r],
        }
        row.update(zip(outcome_names, bundle_list[r]))
        row.update(zip(bundle_names, table_list[r]))
        row.update(zip(utility_names, value_list[r]))
        row.update(disagreement)
        row.update(here["war"])
        row["nash_product"] = float(nash_products[r])
        row.update(REFERENCES["nash"])
        row.update(REFERENCES["pareto"])
        row.update(REFERENCES["range"])
        row.update(REFERENCES["deal_gap"])
        if "nash" in wanted:
            row["distance_to_nash"] = np.nan if nash is None or war_end[r] else float(distances[r])
            row["nash_no_gain"] = no_gain
        if "pareto" in wanted:
            row["pareto_efficient"], row["distance_to_pareto"] = pareto[r]
        if "range" in wanted:
            row["bargaining_range"], row["bargaining_range_empty"] = ranges
        if "deal_gap" in wanted:
            row.update({"deal_gap": gap.gap, "deal_gap_rules": gap.rules})
        rows.append(row)
    return rows


def _crossed_red_lines(scenario: "Scenario", bundles: np.ndarray) -> list[str]:
    """``scenario.crossed_red_lines`` of every bundle (M, K), joined by commas, from one mask."""
    if not any(actor.red_lines for actor in scenario.actors):
        return [""] * len(bundles)
    mask = scenario.red_line_mask(bundles)  # (N, M, K)
    names = np.array([[f"{a}.{k}" for k in scenario.issue_ids] for a in scenario.actor_ids], dtype=object)
    out = []
    for m in range(len(bundles)):
        crossed = ~mask[:, m, :]
        out.append(",".join(names[crossed]) if crossed.any() else "")
    return out


def reference_table(scenario: "Scenario", disagreement: np.ndarray | None = None) -> pd.DataFrame:
    """Per issue: scale, end texts, status quo and the reference solutions (MODEL.md §5)."""
    nash = nash_solution(scenario, disagreement)
    ks = kalai_smorodinsky(scenario, disagreement)
    missing = np.full(scenario.n_issues, np.nan)
    return pd.DataFrame({
        "issue": list(scenario.issue_ids),
        "label": [i.label for i in scenario.issues],
        "low": [i.low for i in scenario.issues],
        "high": [i.high for i in scenario.issues],
        "unit": [i.unit for i in scenario.issues],
        "lower": scenario.lower,
        "upper": scenario.upper,
        "status_quo": scenario.status_quo,
        "compromise": scenario_compromise(scenario),
        "median": scenario_median(scenario),
        "nash": missing if nash is None else nash,
        "kalai_smorodinsky": missing if ks is None else ks,
    })


def utility_space_table(scenario: "Scenario", actors: tuple[str, str], disagreement: np.ndarray,
                        outcomes: dict[str, np.ndarray] | None = None, samples: int = 2048) -> pd.DataFrame:
    """Points of the utility space of two actors for :func:`sim.report.plots.utility_space_figure`:
    a fixed quasi-random sample of bundles, the Pareto frontier of the whole negotiation projected on
    the two, Nash and Kalai–Smorodinsky points, the disagreement point and the given outcomes."""
    from sim.kernels.solutions import pareto_frontier, sample_bundles

    index = [scenario.actor_ids.index(a) for a in actors]
    rows = []

    def add(kind: str, label: str, bundles: np.ndarray) -> None:
        values = scenario_utilities(scenario, np.atleast_2d(bundles))[index]
        for column in range(values.shape[1]):
            rows.append({"kind": kind, "label": label,
                         f"u_{actors[0]}": values[0, column], f"u_{actors[1]}": values[1, column]})

    add("sample", "", sample_bundles(scenario, samples))
    if not scenario.budget_issues:
        # The two actors' own frontier: weights only on them.
        from sim.kernels.solutions import weighted_sum_optima

        grid = np.linspace(0.0, 1.0, 101)
        lambdas = np.zeros((len(grid), scenario.n_actors))
        lambdas[:, index[0]] = grid + 1e-9
        lambdas[:, index[1]] = 1.0 - grid + 1e-9
        add("frontier", "", scenario.snap(weighted_sum_optima(scenario, lambdas)))
    else:
        add("frontier", "", pareto_frontier(scenario))
    nash = nash_solution(scenario, disagreement)
    ks = kalai_smorodinsky(scenario, disagreement)
    if nash is not None:
        add("nash", "Nash", nash)
    if ks is not None:
        add("kalai_smorodinsky", "KS", ks)
    rows.append({"kind": "disagreement", "label": "d", f"u_{actors[0]}": disagreement[index[0]],
                 f"u_{actors[1]}": disagreement[index[1]]})
    for label, bundle in (outcomes or {}).items():
        add("outcome", label, bundle)
    return pd.DataFrame(rows)
