"""A run's report: its figures, its results folder with them, and its summary in words."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.domain.config import figure_layout, figure_settings
from sim.runs import results as folders
from sim.runs.result import RunResult


def write_run(result: RunResult, folder: Path, cfg: Any = None, figures: bool = True, **manifest_extra: Any) -> Path:
    """Write a run's folder (:func:`sim.runs.results.write_run`) with its figures in ``figures/``."""
    draw = ((lambda where: write_figures(result, where / "figures", *figure_settings(cfg), *figure_layout(cfg)))
            if figures else None)
    return folders.write_run(result, folder, cfg, draw, **manifest_extra)


def run_caption(result: RunResult) -> str:
    """Scenario · protocol(s) · seed: the caption line of a run's figures."""
    seed = result.runs["seed"].iloc[0]
    seed = "seed not fixed" if seed is None or pd.isna(seed) else f"seed {int(seed)}"
    from sim.report.plots import caption

    return caption(result.scenario.name or result.scenario.id, ", ".join(result.protocols), None, seed)


def write_figures(result: RunResult, folder: Path, fmt: str = "png", dpi: int = 150, width: float | None = None,
                  details: bool = False) -> list[Path]:
    """positions (protocols that move positions), offers (protocols whose rounds are offers),
    utility_space (every actor), comparison (protocol=all), deal_gap (the declared inputs' deal gap),
    as ``fmt`` files laid out for ``width`` (run details drawn only with ``details``; always in
    captions.md); returns their paths."""
    from sim.report import plots

    with plots.layout(width, details):
        return _write_figures(result, folder, fmt, dpi)


def _write_figures(result: RunResult, folder: Path, fmt: str, dpi: int) -> list[Path]:
    from sim.analysis.sensitivity import utility_space
    from sim.kernels.deal_gap import gap_table, scenario_deal_gap
    from sim.report import plots

    labels = plots.Labels.from_scenario(result.scenario)
    written = []
    parts = result.parts or (result,)
    bundle_offers = []  # the offers of the protocols whose rounds are whole-bundle offers
    for part in parts:
        protocol = part.runs["protocol"].iloc[0]
        suffix = "" if len(parts) == 1 else f"_{protocol}"
        caption = run_caption(part)
        if not part.model.protocol.makes_offers and not part.rounds.empty:  # positions move: draw them
            written.append(plots.save(plots.positions_figure(part.rounds, part.issues, labels=labels, caption=caption),
                                      folder / f"positions{suffix}", dpi, fmt))
        if part.model.protocol.makes_offers and not part.events.empty and (part.events["kind"] == "offer").any():
            bundle_offers.append(part.events[part.events["kind"] == "offer"])
            written.append(plots.save(plots.offers_figure(part.events, part.issues, labels=labels, caption=caption),
                                      folder / f"offers{suffix}", dpi, fmt))
    scenario = result.scenario
    outcomes = {row["protocol"]: np.array([row[f"outcome_{i}"] for i in scenario.issue_ids])
                for _, row in result.runs.iterrows()}
    space = utility_space(scenario, result.model.disagreement, outcomes)
    offers = pd.concat(bundle_offers, ignore_index=True) if bundle_offers else None
    written.append(plots.save(plots.utility_space_figure(space, offers, labels=labels, caption=run_caption(result)),
                              folder / "utility_space", dpi, fmt))
    if result.parts:
        written.append(plots.save(plots.comparison_figure(result.runs, result.issues, labels=labels, caption=run_caption(result)),
                                  folder / "comparison", dpi, fmt))
    gap = scenario_deal_gap(scenario, parts[-1].model.protocol.deal_consent())
    names = {a.id: a.name for a in scenario.actors}
    written.append(plots.save(plots.deal_gap_figure(pd.DataFrame(gap_table(gap)), names, caption=run_caption(result)),
                              folder / "deal_gap", dpi, fmt))
    return written


def summary(result: RunResult) -> str:
    """The run in words: outcome per issue against the reference solutions, and the deal gap."""
    text = comparison_summary(result) if result.parts else single_summary(result)
    return text + "\n" + deal_gap_lines(result)


def deal_gap_lines(result: RunResult) -> str:
    """The deal gap of the run's declared inputs, one line per distinct consent rule of its protocols
    (:func:`sim.kernels.deal_gap.scenario_deal_gap`; docs/explanation/why-talks-fail.md)."""
    from sim.kernels.deal_gap import scenario_deal_gap
    from sim.report.wording import deal_gap_in_words

    names = {a.id: a.name for a in result.scenario.actors}
    lines: dict[str, list[str]] = {}
    for part in result.parts or (result,):
        gap = scenario_deal_gap(result.scenario, part.model.protocol.deal_consent())
        lines.setdefault(deal_gap_in_words(gap, names), []).append(str(part.runs["protocol"].iloc[0]))
    if len(lines) == 1:
        return next(iter(lines))
    return "\n".join(f"{line} [{', '.join(protocols)}]" for line, protocols in lines.items())


def comparison_summary(result: RunResult) -> str:
    """Outcome per issue by protocol, with agreement or breakdown cause per protocol."""
    table = result.issues[["issue", "status_quo", "compromise", "median", "nash"]].copy()
    lines = [f"{result.scenario.name} | seed {result.runs['seed'].iloc[0]} | protocols compared"]
    for _, row in result.runs.iterrows():
        table[row["protocol"]] = [row[f"outcome_{i}"] for i in table["issue"]]
        status = "agreement" if row["agreement"] else f"no agreement ({row['ending']}): {row['breakdown_cause']}"
        if not row["agreement"] and row.get("ending_reason"):
            status += f"; {row['ending_reason']}"
        lines.append(f"  {row['protocol']:9s} {status} after {row['rounds']} rounds; "
                     f"bargaining range {row['bargaining_range']:.3f}")
    return "\n".join(lines) + "\n" + table.to_string(index=False, float_format=lambda v: f"{v:8.2f}")


def ending_in_words(row: Any) -> str:
    """What a breakdown leaves each actor, and why it is or is not a war (``ending_reason``)."""
    reason = str(row.get("ending_reason") or "")
    if row.get("ending") == "war":
        return (f"{reason}; so the breakdown means war: each actor gets its outside option, and there is no "
                "outcome per issue (NaN): docs/explanation/why-talks-fail.md")
    if reason:  # someone holds a war option but nobody prefers it to the status quo
        return (f"{reason}; so no deal and no war: the status quo stays on every issue and each actor gets "
                "its outside option: docs/explanation/why-talks-fail.md")
    return "each actor gets its outside option; the status quo stays on every issue"


def single_summary(result: RunResult) -> str:
    """A short text table: per issue status quo, reference solutions and the outcome."""
    row = result.runs.iloc[0]
    table = result.issues[["issue", "status_quo", "compromise", "median", "nash"]].copy()
    table["outcome"] = [row[f"outcome_{i}"] for i in table["issue"]]
    if not row["agreement"]:  # what was on the table (the forecast or the last offer); the outcome is the fallback
        table["on_the_table"] = [row.get(f"bundle_{i}", float("nan")) for i in table["issue"]]
    if not result.rounds.empty:
        start = result.rounds[result.rounds["round"] == 0].groupby("issue", sort=False)["median"].first()
        table.insert(4, "median_at_start", table["issue"].map(start))
    status = "agreement" if row["agreement"] else f"no agreement, {row['ending']} ({row['breakdown_cause']})"
    if not row["agreement"]:
        status += "\n" + ending_in_words(row)
    if row.get("red_lines_crossed"):
        status += f"\nred lines crossed by the bundle on the table: {row['red_lines_crossed'].replace(',', ', ')}"
    head = (f"{result.scenario.name} | protocol {row['protocol']} | seed {row['seed']} | "
            f"{row['rounds']} rounds | {status}")
    return head + "\n" + table.to_string(index=False, float_format=lambda v: f"{v:8.2f}")
