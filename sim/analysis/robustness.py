"""Robustness within the sources' ranges (docs/explanation/why-talks-fail.md, "Robustness"): every input of a
scenario varied at once within the range its comment declares (``range [low, high]``, read by
:func:`sim.domain.yaml_comments.declared_ranges`), and what the runs of that sweep say about the deal gap.

* :func:`ranges_sweep`: the sweep (``configs/sweep/source_ranges.yaml`` is written from it by
  ``tools/source-ranges-sweep``, and a test holds the two equal);
* :func:`robustness_summary`: a sweep folder's share of breakdowns, distribution of the deal gap, which
  rules bind how often, and the run closest to a deal;
* :func:`single_perturbations`: each input alone moved to either end of its range (the rest as declared),
  and the deal gap it leaves: the single perturbation that comes closest to a deal.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

import numpy as np
import pandas as pd

from sim.domain.yaml_comments import declared_ranges


def ranges_sweep(scenario_path: str | Path, samples: int = 1000, seed: int = 2022) -> dict[str, Any]:
    """The ``sweep`` node of a Latin hypercube over every declared range of a scenario file."""
    ranges = declared_ranges(scenario_path)
    return {
        "name": "source_ranges", "design": "lhs", "samples": int(samples), "replicates": 1, "seed": int(seed),
        "shard_size": 50,
        "parameters": {f"scenario.{key}": {"low": low, "high": high} for key, (low, high) in ranges.items()},
        "outputs": ["agreement", "deal_gap", "bargaining_range"],
    }


def robustness_summary(runs: pd.DataFrame) -> dict[str, Any]:
    """Breakdowns, the deal gap's distribution and the binding rules of a sweep's runs table."""
    gap = runs["deal_gap"].astype(float)
    rules = runs.loc[gap > 1e-6, "deal_gap_rules"].fillna("")
    binding = pd.Series([r for text in rules for r in text.split(",") if r]).value_counts()
    closest = runs.loc[gap.idxmin()]
    return {
        "runs": int(len(runs)),
        "breakdowns": float(1.0 - runs["agreement"].astype(float).mean()),
        "endings": runs["ending"].value_counts(normalize=True).to_dict() if "ending" in runs else {},
        "deal_exists": float((gap <= 1e-6).mean()),
        "gap_quantiles": {q: float(gap.quantile(q)) for q in (0.0, 0.05, 0.25, 0.5, 0.75, 0.95, 1.0)},
        "gap_mean": float(gap.mean()),
        "binding": {rule: int(count) for rule, count in binding.items()},
        "binding_sets": rules.value_counts().to_dict(),
        "closest": closest,
    }


def single_perturbations(scenario_path: str | Path, consent: Any = None) -> pd.DataFrame:
    """Each declared input alone at either end of its range, the rest as declared: the deal gap it leaves
    and its least relaxation, sorted from the smallest gap (rows: key, end, value, deal_gap, rules)."""
    from sim.domain.scenario import scenario_from_config
    from sim.kernels.deal_gap import Consent, scenario_deal_gap
    from sim.runs.configs import load_group

    base = load_group("scenario", str(scenario_path))
    consent = consent or Consent()
    rows = []
    for key, (low, high) in declared_ranges(scenario_path).items():
        for end, value in (("low", low), ("high", high)):
            data = _with(base, key, value)
            scenario = scenario_from_config(data, source=str(scenario_path))
            gap = scenario_deal_gap(scenario, consent, alternatives=0)
            rows.append({"key": key, "end": end, "value": value, "deal_gap": gap.gap, "rules": gap.rules})
    return pd.DataFrame(rows).sort_values(["deal_gap", "key"], kind="stable").reset_index(drop=True)


def _with(data: Mapping[str, Any], dotted: str, value: float) -> dict[str, Any]:
    """A deep copy of ``data`` with the number at ``dotted`` replaced."""
    import copy

    out = copy.deepcopy(dict(data))
    node = out
    parts = dotted.split(".")
    for part in parts[:-1]:
        node = node[part]
    node[parts[-1]] = value
    return out


def summary_text(summary: Mapping[str, Any], singles: pd.DataFrame | None = None, top: int = 5) -> str:
    """The summary in lines a reader can quote (percentages of runs, points of deal gap)."""
    q = summary["gap_quantiles"]
    lines = [
        f"runs {summary['runs']}: breakdowns {summary['breakdowns']:.1%}; a bundle every needed actor accepts "
        f"exists in {summary['deal_exists']:.1%}",
        "endings: " + ", ".join(f"{k} {v:.1%}" for k, v in summary["endings"].items()),
        f"deal gap (points): min {q[0.0]:.1f}, 5% {q[0.05]:.1f}, 25% {q[0.25]:.1f}, median {q[0.5]:.1f}, "
        f"75% {q[0.75]:.1f}, 95% {q[0.95]:.1f}, max {q[1.0]:.1f}; mean {summary['gap_mean']:.1f}",
        "binding rules (runs where the least relaxation includes it): "
        + ", ".join(f"{rule} {count}" for rule, count in summary["binding"].items()),
    ]
    closest = summary["closest"]
    lines.append(f"closest run: run_index {int(closest.get('run_index', -1))}, deal gap {closest['deal_gap']:.1f} "
                 f"({closest['deal_gap_rules'] or 'a deal exists'})")
    if singles is not None and len(singles):
        lines.append(f"single perturbations (one input at an end of its range, {len(singles)} in all), closest first:")
        for _, row in singles.head(top).iterrows():
            lines.append(f"  {row['key']} = {row['value']:g} ({row['end']} end): deal gap {row['deal_gap']:.1f}"
                         f" ({row['rules'] or 'a deal exists'})")
    return "\n".join(lines)


def robustness_report(folder: str | Path, scenario: str | Path | None = None, top: int = 5) -> str:
    """``python -m experiments.robustness``: the summary of a ``source_ranges`` sweep folder, and the single
    perturbations of the scenario whose ranges it swept (default: the folder's scenario, by its config name)."""
    from sim.runs.configs import group_file
    from sim.runs.results import load_results

    saved = load_results(folder, tables=("runs",))
    name = scenario or (saved.config.get("scenario") or {}).get("id", "jan2022")
    path = group_file("scenario", str(name))
    return summary_text(robustness_summary(saved.runs), single_perturbations(path), top)
