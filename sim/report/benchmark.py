"""The DEU benchmark from end to end (``python -m experiments.benchmark deu``; docs/explanation/validation.md):
predictions (:mod:`sim.runs.benchmark`), scores, cross-validation and intervals (:mod:`sim.analysis.validation`),
the results folder and its figures, and the printed report.

The folder: ``predictions.parquet`` (every model, replicate and issue), ``errors.parquet`` (one row per model
and issue: mean prediction, observed outcome, error), ``scores.parquet`` (overall and split by procedure and
by voting rule), ``folds.parquet`` (each proposal's fold) and ``tuning.parquet`` (the parameter chosen per
fold), ``figures/mae.png`` and ``figures/predicted_vs_observed.png``, ``config.yaml``, ``manifest.json``
(completed last) and ``shards/`` (what a re-run resumes from).
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from sim.analysis import validation
from sim.runs.benchmark import MODELS, BenchmarkSettings, predictions, proposal_ids
from sim.runs.results import manifest, write_json, write_parquet

#: Printed and documented order: reference solutions, protocols, then the tuned model.
ORDER = ["compromise", "weighted_median", "nash_0", "ks_0", "nash_rp", "ks_rp", "reference_point",
         "eu_standard", "eu_scholz", "offers", "exchange", "compromise_cv"]
FAMILY = {**{m: "reference" for m in ORDER[:7]}, **{m: "protocol" for m in ORDER[7:11]}, "compromise_cv": "tuned"}


@dataclass
class BenchmarkReport:
    folder: Path
    scores: pd.DataFrame
    by_procedure: pd.DataFrame
    by_rule: pd.DataFrame
    tuning: pd.DataFrame
    seconds: float
    text: str


def run_benchmark(settings: BenchmarkSettings, folder: Path, config_yaml: str = "",
                  fmt: str = "png", dpi: int = 150) -> BenchmarkReport:
    """Run (or resume) the benchmark into ``folder`` and return its tables and the printed report."""
    from sim.report.validation_figures import mae_figure, predicted_figure, save

    started = time.time()
    clock = time.perf_counter()
    cpu = _cpu_seconds()
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    extra = {"benchmark": asdict(settings)}
    write_json(folder / "manifest.json", manifest(settings.seed, started, False, **extra))
    if config_yaml:
        (folder / "config.yaml").write_text(config_yaml)
    pids = proposal_ids(settings)
    bar = _progress(len(pids), settings.progress)
    frame = predictions(settings, folder, progress=bar.update if bar else None)
    worker_cpu = float(frame.attrs.get("worker_cpu", 0.0))
    if bar:
        bar.close()
    write_parquet(frame, folder / "predictions.parquet")
    errors = validation.issue_errors(frame)
    folds = validation.proposal_folds(pids, settings.folds, settings.seed)
    write_parquet(pd.DataFrame({"proposal": list(folds), "fold": list(folds.values())}), folder / "folds.parquet")
    tuning = pd.DataFrame()
    candidates = errors[errors["family"] == "candidate"]
    scored = errors[errors["family"] != "candidate"]
    if not candidates.empty:
        out, tuning = validation.cross_validate(candidates, folds)
        scored = pd.concat([scored, out.assign(model="compromise_cv", family="tuned")], ignore_index=True)
        write_parquet(tuning, folder / "tuning.parquet")
    scored = scored.assign(family=scored["model"].map(FAMILY).fillna(scored["family"]))
    write_parquet(scored.drop(columns=["parameter"], errors="ignore"), folder / "errors.parquet")
    order = [m for m in ORDER if m in set(scored["model"])]
    scores = validation.score_table(scored, settings.bootstrap, settings.seed, order=order)
    scores.insert(1, "family", scores["model"].map(FAMILY))
    by_procedure = validation.split_table(scored, "procedure", settings.bootstrap, settings.seed, order)
    by_rule = validation.split_table(scored, "proposal_rule", settings.bootstrap, settings.seed, order)
    tables = [scores.assign(split="all", group="all")]
    tables += [t.rename(columns={"procedure": "group"}).assign(split="procedure") for t in (by_procedure,)]
    tables += [t.rename(columns={"proposal_rule": "group"}).assign(split="rule") for t in (by_rule,)]
    write_parquet(pd.concat(tables, ignore_index=True), folder / "scores.parquet")
    caption = (f"DEU III · {len(pids)} proposals · capability {settings.capability}, Commission and Parliament "
               f"{settings.supranational} · eu standard {settings.replicates} replicates · seed {settings.seed}")
    figures = [save(mae_figure(scores.assign(family=scores["model"].map(FAMILY)), caption), folder / "figures" / "mae",
                    dpi, fmt),
               save(predicted_figure(scored, order, caption), folder / "figures" / "predicted_vs_observed", dpi, fmt)]
    seconds = time.perf_counter() - clock
    cpu = _cpu_seconds() - cpu + worker_cpu
    text = report_text(settings, len(pids), scores, by_procedure, by_rule, tuning, seconds, cpu)
    write_json(folder / "manifest.json", manifest(settings.seed, started, True, seconds=round(seconds, 1),
                                                   cpu_seconds=round(cpu, 1),
                                                   figures=[str(f.relative_to(folder)) for f in figures], **extra))
    return BenchmarkReport(folder, scores, by_procedure, by_rule, tuning, seconds, text)


def report_text(settings: BenchmarkSettings, proposals: int, scores: pd.DataFrame, by_procedure: pd.DataFrame,
                by_rule: pd.DataFrame, tuning: pd.DataFrame, seconds: float, cpu: float = float("nan")) -> str:
    """What the command prints (the docs' table is its first block, :func:`markdown_table`)."""
    columns = ["model", "family", "n", "proposals", "mae", "median", "within10", "diff", "low", "high"]
    lines = [f"DEU III benchmark: {proposals} proposals, capability={settings.capability}, "
             f"supranational={settings.supranational}, replicates={settings.replicates}, seed={settings.seed}",
             "mae/median: absolute error in points (0-100); within10: share of issues within 10 points; diff: MAE - "
             "compromise MAE on the issues both predict, [95 % interval] from resampling proposals "
             f"({settings.bootstrap} resamples)", "",
             validation.format_table(scores[columns]), ""]
    short = ["model", "n", "mae", "median", "within10", "diff", "low", "high"]
    for title, table, key in (("by procedure", by_procedure, "procedure"), ("by voting rule", by_rule, "proposal_rule")):
        lines += [title + ":", validation.format_table(table[[key] + short]), ""]
    if not tuning.empty:
        lines += [f"compromise_cv: Commission and Parliament capability x factor, chosen by {settings.folds}-fold "
                  f"cross-validation by proposal (seed {settings.seed}); out-of-fold errors only. Per fold:",
                  tuning.to_string(index=False, float_format=lambda v: f"{v:.2f}"), ""]
    lines.append(f"time: {seconds:.1f} s wall, {cpu:.1f} s CPU (this process and its workers; "
                 f"{settings.workers} worker{'s' if settings.workers > 1 else ''}; shards already on disk are not rerun)")
    return "\n".join(lines)


def markdown_table(scores: pd.DataFrame) -> str:
    """The docs' table (docs/explanation/validation.md) from a score table: the numbers the command prints."""
    head = "| model | family | n | proposals | MAE | median | within 10 | MAE − compromise [95 % interval] |"
    lines = [head, "| --- | --- | ---: | ---: | ---: | ---: | ---: | --- |"]
    for row in scores.itertuples():
        interval = "" if pd.isna(row.low) or row.model == "compromise" else f"{row.diff:.1f} [{row.low:.1f}, {row.high:.1f}]"
        lines.append(f"| `{row.model}` | {row.family} | {row.n} | {row.proposals} | {row.mae:.1f} | {row.median:.1f} | "
                     f"{row.within10:.2f} | {interval} |")
    return "\n".join(lines)


def _cpu_seconds() -> float:
    """User + system CPU seconds of this process (the workers report theirs with their shards)."""
    import time

    return time.process_time()


def _progress(total: int, show: bool) -> Any:
    if not show:
        return None
    try:
        from tqdm import tqdm
    except ImportError:  # pragma: no cover - tqdm is a dependency
        return None
    return tqdm(total=total, unit="proposal", desc="DEU benchmark", leave=False)


__all__ = ["MODELS", "run_benchmark", "markdown_table", "BenchmarkReport"]
