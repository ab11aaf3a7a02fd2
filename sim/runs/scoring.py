"""Scoring runs against the observed record: how far a simulated trajectory is from what happened.

Pure functions from tidy tables (the ``rounds`` table: round, actor, issue, position; the ``runs`` table:
one row per run, MODEL.md §6) plus the record (``data/jan2022_observed.yaml``) and the mapping from model
rounds to its dates (config key ``observed.rounds``, configs/observed/). Three scores:

* **trajectory distance**: mean absolute error between the simulated and the observed positions, in points
  of a 0-100 scale (|simulated - observed| / issue span x 100; the DEU forecasting literature's measure,
  Thomson et al. 2006, docs/reference/sources.md §5), per issue and overall, over the observed
  (round, actor, issue) points only: an observation the record leaves out is skipped, never filled in;
* **outcome class**: agreement or breakdown, and who broke off (:func:`outcome_class`), and whether it matches
  the record; and the round talks ended, against the round the record's end date is mapped to;
* **Brier score** of the outcome class over replicates (:data:`OUTCOME_CLASSES`: agreement, war, no deal and
  no war): sum over the classes of (share of runs in the class - [the record's class])², against the same
  score of the record's stated base rate (``outcome.base_rate``).

Retrodiction must be able to fail, so every trajectory score comes with **baselines** scored on the same
points by the same code (:data:`BASELINES`): *no change* (the scenario's inputs carried forward), every actor
at the *compromise* (c·s-weighted mean) and every actor at the c·s-weighted *median* from round 1 on; and
**skill** = 1 - MAE_model / MAE_no_change (0 for a model that never moves, negative for one that moves the
wrong way). :func:`leakage` counts the observed points that equal the scenario's own inputs (no change
matches them exactly) or are dated at or before the scenario's date (the record's ``scenario_date``).

The sweep and ``protocol=all`` runs call :func:`score_columns` on each finished model (the per-round table
need not be recorded); ``python -m experiments.score <folder>`` prints the table per protocol, the
baselines under it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping

import numpy as np
import pandas as pd

from sim.domain.config import REPO_ROOT
from sim.domain.errors import ConfigError

if TYPE_CHECKING:  # pragma: no cover
    from sim.engine.model import BargainingModel
    from sim.domain.scenario import Scenario

#: Weights of the combined distance (:func:`combined_distance`) when a calibration names none.
DEFAULT_WEIGHTS = {"trajectory": 1.0, "outcome": 20.0, "timing": 5.0}

#: How a run ends, as the Brier score counts it: a deal, war, or no deal and no war (the status quo or a
#: reservation value stands).
OUTCOME_CLASSES = ("agreement", "war", "no_deal_no_war")

#: The trajectory baselines every score is reported against (:func:`baseline_history`).
BASELINES = ("no_change", "compromise", "median")


@dataclass(frozen=True)
class ObservedRecord:
    """The observed record: positions per date x actor x issue, and how the talks ended."""

    source: str  # the file, as shown in error messages
    scenario: str  # the scenario whose ids the record uses
    observations: pd.DataFrame  # date, label, actor, issue, position
    agreement: bool
    ending: str  # agreement | war | status_quo | reservation (sim.engine.metrics.ending)
    broken_off_by: tuple[str, ...]
    end_date: str
    digest: str = ""  # sha256 of the file's bytes (cache key)
    scenario_date: str = ""  # the date the scenario's inputs describe (its round 0); "" = not stated
    base_rate: tuple[tuple[str, float], ...] = tuple((c, 1.0 / len(OUTCOME_CLASSES)) for c in OUTCOME_CLASSES)

    @property
    def outcome_class(self) -> str:
        """The record's :data:`OUTCOME_CLASSES` entry."""
        return outcome_class_of(self.agreement, self.ending)

    @property
    def dates(self) -> list[str]:
        return list(dict.fromkeys(self.observations["date"]))


_RECORDS: dict[str, ObservedRecord] = {}


def resolve_path(path: str | Path) -> Path:
    """A record path as given (absolute, or relative to the launch directory), else under the repository."""
    path = Path(path).expanduser()
    if path.is_absolute() or path.exists():
        return path
    return REPO_ROOT / path


def load_record(path: str | Path) -> ObservedRecord:
    """Read and check an observed record (YAML; layout in ``data/jan2022_observed.yaml``), cached by content.

    Raises:
        ConfigError: missing file, or a malformed entry (naming the file and the key).
    """
    import yaml

    file = resolve_path(path)
    source = str(path)
    if not file.is_file():
        raise ConfigError("configs/observed", "observed.path", f"{source!r}: no such file")
    text = file.read_bytes()
    key = hashlib.sha256(text).hexdigest()
    if key in _RECORDS:
        return replace(_RECORDS[key], source=source)
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as error:
        raise ConfigError(source, "(file)", f"not valid YAML: {str(error).splitlines()[0]}") from None
    if not isinstance(data, dict) or not isinstance(data.get("rounds"), dict) or not data["rounds"]:
        raise ConfigError(source, "rounds", "give a mapping: date -> {label, actor -> {issue -> position}}")
    rows = []
    for date, entry in data["rounds"].items():
        date = str(date)
        if not isinstance(entry, dict):
            raise ConfigError(source, f"rounds.{date}", "give {label, actor -> {issue -> position}}")
        label = str(entry.get("label", date))
        for actor, positions in entry.items():
            if actor == "label":
                continue
            if not isinstance(positions, dict):
                raise ConfigError(source, f"rounds.{date}.{actor}", "give issue -> position")
            for issue, value in positions.items():
                if isinstance(value, bool) or not isinstance(value, (int, float)):
                    raise ConfigError(source, f"rounds.{date}.{actor}.{issue}", f"{value!r} is not a number")
                rows.append({"date": date, "label": label, "actor": str(actor), "issue": str(issue),
                             "position": float(value)})
    outcome = data.get("outcome") or {}
    if not isinstance(outcome, dict) or "agreement" not in outcome:
        raise ConfigError(source, "outcome", "give {agreement: true|false, ending, broken_off_by, date}")
    by = outcome.get("broken_off_by") or []
    scenario_date = str(data.get("scenario_date") or "")
    early = [d for d in dict.fromkeys(r["date"] for r in rows) if scenario_date and d <= scenario_date]
    if early:
        raise ConfigError(source, f"rounds.{early[0]}",
                          f"dated at or before the scenario's date (scenario_date: {scenario_date}): "
                          "that is an input, not an observation")
    record = ObservedRecord(
        source=source, scenario=str(data.get("scenario", "")), observations=pd.DataFrame(rows),
        agreement=bool(outcome["agreement"]), ending=str(outcome.get("ending", "")),
        broken_off_by=tuple(sorted(str(a) for a in ([by] if isinstance(by, str) else by))),
        end_date=str(outcome.get("date", "")), digest=key, scenario_date=scenario_date,
        base_rate=_base_rate(outcome.get("base_rate"), source))
    _RECORDS[key] = record
    return record


def _base_rate(node: Any, source: str) -> tuple[tuple[str, float], ...]:
    """The record's ``outcome.base_rate`` checked: a share per outcome class, summing to 1 (default 1/3 each)."""
    if node is None:
        return ObservedRecord.base_rate
    if not isinstance(node, dict):
        raise ConfigError(source, "outcome.base_rate", f"give a share per class: {', '.join(OUTCOME_CLASSES)}")
    unknown = sorted(set(map(str, node)) - set(OUTCOME_CLASSES))
    if unknown:
        raise ConfigError(source, f"outcome.base_rate.{unknown[0]}",
                          f"unknown class; allowed: {', '.join(OUTCOME_CLASSES)}")
    shares = []
    for name in OUTCOME_CLASSES:
        value = node.get(name, 0.0)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
            raise ConfigError(source, f"outcome.base_rate.{name}", f"{value!r}; give a share in [0, 1]")
        shares.append((name, float(value)))
    if abs(sum(v for _, v in shares) - 1.0) > 1e-6:
        raise ConfigError(source, "outcome.base_rate", f"the shares sum to {sum(v for _, v in shares):.6g}, not 1")
    return tuple(shares)


def round_map(rounds: Mapping[Any, Any] | None, record: ObservedRecord,
              source: str = "configs/observed") -> dict[int, str]:
    """The config's model round -> record date mapping, checked (whole rounds >= 0, dates in the record).

    Raises:
        ConfigError: a round that is not a whole number >= 0, or a date the record does not have.
    """
    out: dict[int, str] = {}
    for round_index, date in (rounds or {}).items():
        try:
            number = int(round_index)
        except (TypeError, ValueError):
            number = -1
        if number < 0 or str(number) != str(round_index).strip():
            raise ConfigError(source, f"observed.rounds.{round_index}", "a model round must be a whole number >= 0")
        if str(date) not in record.dates and str(date) != record.end_date:
            raise ConfigError(source, f"observed.rounds.{round_index}",
                              f"{date!r} is not a round of {record.source}; allowed: "
                              f"{', '.join(record.dates + ([record.end_date] if record.end_date not in record.dates else []))}")
        out[number] = str(date)
    return out


def check_record(record: ObservedRecord, scenario: "Scenario") -> None:
    """Refuse a record that observes an actor or issue the scenario lacks, or a position off the scale.

    Raises:
        ConfigError: naming the record file and the key (``rounds.<date>.<actor>[.<issue>]``).
    """
    obs = record.observations
    for row in obs.itertuples():
        where = f"rounds.{row.date}.{row.actor}"
        if row.actor not in scenario.actor_ids:
            raise ConfigError(record.source, where, f"scenario {scenario.id!r} has no actor {row.actor!r}; "
                                                    f"allowed: {', '.join(scenario.actor_ids)}")
        if row.issue not in scenario.issue_ids:
            raise ConfigError(record.source, f"{where}.{row.issue}",
                              f"scenario {scenario.id!r} has no issue {row.issue!r}; "
                              f"allowed: {', '.join(scenario.issue_ids)}")
        k = scenario.issue_ids.index(row.issue)
        if not scenario.lower[k] <= row.position <= scenario.upper[k]:
            raise ConfigError(record.source, f"{where}.{row.issue}",
                              f"{row.position:g} is outside the issue's scale "
                              f"[{scenario.lower[k]:g}, {scenario.upper[k]:g}]")
    for actor in record.broken_off_by:
        if actor not in scenario.actor_ids:
            raise ConfigError(record.source, "outcome.broken_off_by",
                              f"scenario {scenario.id!r} has no actor {actor!r}; allowed: {', '.join(scenario.actor_ids)}")


_COVERS: dict[tuple[str, str], bool] = {}


def covers(record: ObservedRecord, scenario: "Scenario") -> bool:
    """Whether the scenario has every actor and issue the record observes (then its runs are scored);
    cached by the contents of both (every run of a sweep asks)."""
    key = (record.digest, scenario.digest)
    if key not in _COVERS or not record.digest:  # (a record built in memory has no digest: not cached)
        obs = record.observations
        _COVERS[key] = (set(obs["actor"]) <= set(scenario.actor_ids) and set(obs["issue"]) <= set(scenario.issue_ids)
                        and set(record.broken_off_by) <= set(scenario.actor_ids))
    return _COVERS[key]


_OBSERVED: dict[tuple, pd.DataFrame] = {}


def observed_table(record: ObservedRecord, rounds: Mapping[int, str]) -> pd.DataFrame:
    """The observations at the mapped model rounds: round, date, actor, issue, position (unmapped dates
    dropped); cached by the record's content and the mapping (a sweep scores every run against it)."""
    key = (record.digest, tuple(sorted(rounds.items())))
    if key not in _OBSERVED:
        _OBSERVED.clear() if len(_OBSERVED) > 64 else None
        _OBSERVED[key] = _observed_table(record, rounds)
    return _OBSERVED[key]


def _observed_table(record: ObservedRecord, rounds: Mapping[int, str]) -> pd.DataFrame:
    by_date = {date: round_index for round_index, date in rounds.items()}
    table = record.observations[record.observations["date"].isin(by_date)].copy()
    table.insert(0, "round", table["date"].map(by_date).astype("int64"))
    return table.sort_values(["round", "actor", "issue"], kind="stable").reset_index(drop=True)


def end_round(record: ObservedRecord, rounds: Mapping[int, str]) -> int | None:
    """The model round the record's end date is mapped to (None if it is not mapped)."""
    return next((r for r, date in sorted(rounds.items()) if date == record.end_date), None)


# --------------------------------------------------------------------------------------------------
# Distances (pure functions of tidy tables)
# --------------------------------------------------------------------------------------------------


def trajectory_table(model: "BargainingModel") -> pd.DataFrame:
    """The model's positions after every round as a tidy table (round, actor, issue, position): the
    ``rounds`` table's first columns, from :attr:`BargainingModel.position_history` (kept in sweeps too)."""
    return history_table(np.stack(model.position_history), model.negotiation)


def trajectory_errors(rounds: pd.DataFrame, observed: pd.DataFrame,
                      spans: Mapping[str, float] | None = None) -> pd.DataFrame:
    """Absolute error at every observed point, in points of a 0-100 scale.

    Args:
        rounds: simulated positions (round, actor, issue, position), e.g. a run's ``rounds`` table.
        observed: observed positions at model rounds (round, actor, issue, position; :func:`observed_table`).
        spans: issue -> scale span (upper - lower); default 100 for every issue.

    Returns:
        The observed rows with ``simulated`` (the position after that round; past the run's last round, the
        position it ended with: talks over, stances stand) and ``error`` = |simulated - observed| / span x 100.
    """
    table = observed[["round", "actor", "issue", "position"]].rename(columns={"position": "observed"})
    if table.empty:
        return table.assign(simulated=pd.Series(dtype=float), error=pd.Series(dtype=float))
    sim = rounds[["round", "actor", "issue", "position"]]
    last = int(sim["round"].max()) if len(sim) else 0
    lookup = table.assign(round=np.minimum(table["round"].to_numpy(), last))
    merged = lookup.merge(sim, on=["round", "actor", "issue"], how="left")
    span = merged["issue"].map(dict(spans)).fillna(100.0) if spans else 100.0
    table = table.assign(simulated=merged["position"].to_numpy())
    return table.assign(error=(table["simulated"] - table["observed"]).abs().to_numpy() / np.asarray(span) * 100.0)


def trajectory_distance(errors: pd.DataFrame) -> tuple[float, pd.Series]:
    """(overall, per issue) mean absolute error of :func:`trajectory_errors`. The overall figure is the mean
    over all observed points (issues observed more often weigh more); points without a simulated position
    (an actor or issue the run lacks) are skipped. NaN when nothing is observed."""
    valid = errors.dropna(subset=["error"])
    overall = float(valid["error"].mean()) if len(valid) else float("nan")
    return overall, valid.groupby("issue", sort=True)["error"].mean()


def outcome_class(agreement: bool, breakdown_cause: str) -> tuple[str, tuple[str, ...]]:
    """("agreement" | "breakdown", who broke off). Who broke off: the actors that walked out
    (``walkout:a,b``), else the actor the first cause names (``red_line:a.issue``, ``package:a``,
    ``not_individually_rational:a``: the one whose rule or outside option rejects the bundle on the table),
    else nobody (``deadline``, ``not_converged``)."""
    if agreement:
        return "agreement", ()
    first = str(breakdown_cause or "").split(" ", 1)[0].split(";", 1)[0]
    kind, _, who = first.partition(":")
    if kind == "walkout":
        return "breakdown", tuple(sorted(who.split(",")))
    if who and kind in ("red_line", "package", "not_individually_rational"):
        return "breakdown", (who.split(".", 1)[0],)
    return "breakdown", ()


def outcome_label(agreement: bool, breakdown_cause: str) -> str:
    """``agreement``, ``breakdown`` or ``breakdown:<actors>`` (:func:`outcome_class` as one string)."""
    kind, by = outcome_class(agreement, breakdown_cause)
    return kind + (":" + ",".join(by) if by else "")


def outcome_matches(agreement: bool, breakdown_cause: str, ending: str, record: ObservedRecord) -> bool:
    """Whether a run ends as the record does: same agreement class, same ending (war, status quo, ...)
    and, after a breakdown, broken off by the same actors."""
    kind, by = outcome_class(agreement, breakdown_cause)
    if record.agreement:
        return kind == "agreement"
    return kind == "breakdown" and str(ending) == record.ending and by == record.broken_off_by


def outcome_class_of(agreement: bool, ending: str) -> str:
    """The :data:`OUTCOME_CLASSES` entry of a run (or the record): ``agreement``, ``war`` (a breakdown whose
    ending is war), else ``no_deal_no_war`` (the status quo or a reservation value stands)."""
    if agreement:
        return "agreement"
    return "war" if str(ending) == "war" else "no_deal_no_war"


def brier_outcome(classes: Any, observed: str) -> float:
    """Brier score of the outcome-class forecast made by replicates: Σ_k (share of runs in class k -
    [k is the observed class])² over :data:`OUTCOME_CLASSES`, in [0, 2], lower is better. NaN for no runs."""
    values = pd.Series(list(classes), dtype=object)
    if values.empty:
        return float("nan")
    shares = values.value_counts(normalize=True)
    return brier_forecast({c: float(shares.get(c, 0.0)) for c in OUTCOME_CLASSES}, observed)


def brier_forecast(shares: Mapping[str, float], observed: str) -> float:
    """Brier score of a stated forecast (class -> probability) for the observed class."""
    return float(sum((float(shares.get(c, 0.0)) - (1.0 if c == observed else 0.0)) ** 2 for c in OUTCOME_CLASSES))


def brier_score(agreement: Any, observed: bool) -> float:
    """Brier score of the agreement forecast made by replicates: (share of runs that agree - observed)²,
    in [0, 1], lower is better. NaN for no runs."""
    values = np.asarray(agreement, dtype=float)
    if values.size == 0:
        return float("nan")
    return float((values.mean() - float(observed)) ** 2)


def combined_distance(scores: Mapping[str, Any], weights: Mapping[str, float] | None = None) -> float:
    """The calibration distance (docs/how-to/calibrate.md): w_trajectory x trajectory MAE (0-100 points)
    + w_outcome x [outcome class differs] + w_timing x |rounds played - observed end round|. A term whose
    score is NaN (nothing observed, end date not mapped) contributes 0."""
    w = {**DEFAULT_WEIGHTS, **(weights or {})}
    terms = (w["trajectory"] * scores["score_mae"], w["outcome"] * (0.0 if scores["score_outcome_match"] else 1.0),
             w["timing"] * scores["score_end_round_error"])
    return float(sum(0.0 if pd.isna(t) else t for t in terms))


# --------------------------------------------------------------------------------------------------
# Score columns of a run (called from sim.runs.spec.RunSpec.row)
# --------------------------------------------------------------------------------------------------


def observed_settings(node: Any) -> tuple[ObservedRecord, dict[int, str]] | None:
    """(record, round map) of an ``observed`` config node (DictConfig or dict), or None when it is null."""
    if node is None:
        return None
    if not isinstance(node, Mapping):
        from omegaconf import OmegaConf

        node = OmegaConf.to_container(node, resolve=True)
    if not node or not node.get("path"):
        return None
    record = load_record(node["path"])
    return record, round_map(node.get("rounds"), record)


def run_scores(rounds: pd.DataFrame, row: Mapping[str, Any], record: ObservedRecord,
               mapping: Mapping[int, str], scenario: "Scenario") -> dict[str, Any]:
    """The score columns of one run from its positions table and outcome row (MODEL.md §6 columns
    agreement, breakdown_cause, ending, rounds): score_mae, score_mae_<issue> (every scenario issue; NaN
    if unobserved), score_mae_<baseline> and score_skill (:func:`baseline_scores`), score_outcome,
    score_outcome_class, score_outcome_match, score_end_round_error."""
    overall, per_issue = _table_mae(rounds, record, mapping, scenario)
    return _score_row(overall, per_issue, row, record, mapping, scenario, fast=False)


def _table_mae(rounds: pd.DataFrame, record: ObservedRecord, mapping: Mapping[int, str],
               scenario: "Scenario") -> tuple[float, list[float]]:
    errors = trajectory_errors(rounds, observed_table(record, mapping), dict(zip(scenario.issue_ids, scenario.spans)))
    overall, per_issue = trajectory_distance(errors)
    return overall, [float(per_issue.get(issue, np.nan)) for issue in scenario.issue_ids]


def _score_row(overall: float, per_issue: list[float], row: Mapping[str, Any], record: ObservedRecord,
               mapping: Mapping[int, str], scenario: "Scenario", fast: bool = True) -> dict[str, Any]:
    target = end_round(record, mapping)
    agreement, cause = bool(row["agreement"]), str(row.get("breakdown_cause") or "")
    baselines = baseline_scores(record, mapping, scenario, fast=fast)
    out: dict[str, Any] = {"score_mae": overall}
    out.update({f"score_mae_{issue}": value for issue, value in zip(scenario.issue_ids, per_issue)})
    out.update({f"score_mae_{name}": value for name, value in baselines.items()})
    out.update({
        "score_skill": skill(overall, baselines["no_change"]),
        "score_outcome": outcome_label(agreement, cause),
        "score_outcome_class": outcome_class_of(agreement, str(row.get("ending", ""))),
        "score_outcome_match": outcome_matches(agreement, cause, str(row.get("ending", "")), record),
        "score_end_round_error": float("nan") if target is None else float(abs(int(row["rounds"]) - target)),
    })
    return out


def skill(mae: float, no_change: float) -> float:
    """1 - MAE / MAE of no change: 0 for a model that never moves, 1 for a perfect one, below 0 for one that
    moves the wrong way. NaN when no change is already exact (nothing for a model to add)."""
    if pd.isna(mae) or pd.isna(no_change) or no_change <= 0:
        return float("nan")
    return float(1.0 - mae / no_change)


def score_columns(model: "BargainingModel", row: Mapping[str, Any], observed: Any) -> dict[str, Any]:
    """Score columns for a finished model's outcome row (empty when ``observed`` is null or the scenario
    does not have every actor and issue the record observes). Called where every result row is made,
    :meth:`sim.runs.spec.RunSpec.row`. ``observed``: the config node, or its (record, round map) as
    :func:`observed_settings` returns them (``RunSpec.scoring``: read once per spec)."""
    settings = observed if isinstance(observed, tuple) else observed_settings(observed)
    if settings is None or not covers(settings[0], model.negotiation):
        return {}
    record, mapping = settings
    scenario = model.negotiation
    overall, per_issue = _history_mae(np.stack(model.position_history), record, mapping, scenario)
    return _score_row(overall, per_issue, row, record, mapping, scenario)


def _history_mae(history: np.ndarray, record: ObservedRecord, mapping: Mapping[int, str],
                 scenario: "Scenario") -> tuple[float, list[float]]:
    """(overall, per issue) MAE of a position history (R + 1, N, K) at the observed points: the numbers of
    :func:`trajectory_errors` and :func:`trajectory_distance` on its tidy table, with numpy indexing instead of
    pandas joins (a sweep scores every run, and a run that ends in its first round costs about as much as
    the scoring)."""
    rounds, actors, issues, observed_positions, spans = _observation_index(record, mapping, scenario)
    simulated = history[np.minimum(rounds, len(history) - 1), actors, issues]
    errors = np.abs(simulated - observed_positions) / spans * 100.0
    counts = np.bincount(issues, minlength=scenario.n_issues)
    sums = np.bincount(issues, weights=errors, minlength=scenario.n_issues)
    per_issue = [float(total / count) if count else float("nan") for total, count in zip(sums, counts)]
    overall = float(errors.mean()) if errors.size else float("nan")
    return overall, per_issue


def score_columns_of_runs(model: "BargainingModel", rows: list[Mapping[str, Any]], history: np.ndarray,
                          rounds: np.ndarray, observed: Any) -> list[dict[str, Any]]:
    """:func:`score_columns` of many finished runs of one specification at once, value for value: run r's
    outcome row ``rows[r]``, its positions after every round ``history[:rounds[r] + 1, r]`` (``history``
    (T + 1, R, N, K); ``model``: one model of the specification). The errors at the observed points are
    taken for all runs as arrays, summed per issue point by point in the order :func:`_history_mae` sums
    them (so the sums are the same numbers); what depends only on the outcome class is computed once per
    class."""
    settings = observed if isinstance(observed, tuple) else observed_settings(observed)
    if settings is None or not covers(settings[0], model.negotiation):
        return [{} for _ in rows]
    record, mapping = settings
    scenario = model.negotiation
    obs_rounds, actors, issues, observed_positions, spans = _observation_index(record, mapping, scenario)
    runs = len(rows)
    rounds = np.asarray(rounds, dtype=int)
    simulated = history[np.minimum(obs_rounds[None, :], rounds[:, None]), np.arange(runs)[:, None],
                        actors[None, :], issues[None, :]]  # (R, points)
    errors = np.abs(simulated - observed_positions) / spans * 100.0
    overall = errors.mean(axis=-1) if errors.shape[1] else np.full(runs, np.nan)
    per_issue = np.full((runs, scenario.n_issues), np.nan)
    for k in range(scenario.n_issues):
        points = np.flatnonzero(issues == k)
        if points.size:
            total = np.zeros(runs)
            for p in points:  # one point at a time, as np.bincount adds them
                total += errors[:, p]
            per_issue[:, k] = total / points.size
    overall_list, per_issue_list = overall.tolist(), per_issue.tolist()
    found = baseline_scores(record, mapping, scenario, fast=True)
    baselines = {f"score_mae_{name}": value for name, value in found.items()}
    no_change = found["no_change"]
    target = end_round(record, mapping)
    mae_names = [f"score_mae_{issue}" for issue in scenario.issue_ids]
    by_class: dict[tuple, tuple] = {}
    out = []
    for r, row in enumerate(rows):
        agreement, cause, end = bool(row["agreement"]), str(row.get("breakdown_cause") or ""), str(row.get("ending", ""))
        key = (agreement, cause, end)
        if key not in by_class:
            by_class[key] = (outcome_label(agreement, cause), outcome_class_of(agreement, end),
                             outcome_matches(agreement, cause, end, record))
        label, kind, matches = by_class[key]
        score: dict[str, Any] = {"score_mae": overall_list[r]}
        score.update(zip(mae_names, per_issue_list[r]))
        score.update(baselines)
        score.update({
            "score_skill": skill(overall_list[r], no_change),
            "score_outcome": label,
            "score_outcome_class": kind,
            "score_outcome_match": matches,
            "score_end_round_error": float("nan") if target is None else float(abs(int(row["rounds"]) - target)),
        })
        out.append(score)
    return out


_INDEX: dict[tuple, tuple[np.ndarray, ...]] = {}


def _observation_index(record: ObservedRecord, mapping: Mapping[int, str], scenario: "Scenario") -> tuple[np.ndarray, ...]:
    """(round, actor index, issue index, observed position, issue span) of every observed point at a mapped
    round, as arrays; cached by the record's content, the mapping and the scenario's ids and spans."""
    key = (record.digest, tuple(sorted(mapping.items())), scenario.actor_ids, scenario.issue_ids,
           tuple(np.asarray(scenario.spans, float)))
    if key not in _INDEX:
        table = observed_table(record, mapping)
        actor = table["actor"].map({a: i for i, a in enumerate(scenario.actor_ids)}).to_numpy(dtype=int)
        issue = table["issue"].map({k: i for i, k in enumerate(scenario.issue_ids)}).to_numpy(dtype=int)
        _INDEX.clear() if len(_INDEX) > 64 else None
        _INDEX[key] = (table["round"].to_numpy(dtype=int), actor, issue, table["position"].to_numpy(dtype=float),
                       np.asarray(scenario.spans, float)[issue])
    return _INDEX[key]


# --------------------------------------------------------------------------------------------------
# Baselines and leakage
# --------------------------------------------------------------------------------------------------


def baseline_history(scenario: "Scenario", name: str, rounds: int) -> np.ndarray:
    """The position history (rounds + 1, N, K) of a baseline: round 0 is the scenario's inputs; after it,
    ``no_change`` keeps them, ``compromise`` puts every actor at the c·s-weighted mean per issue and
    ``median`` at the c·s-weighted median (:mod:`sim.kernels.solutions`, MODEL.md §5)."""
    from sim.kernels.solutions import scenario_compromise, scenario_median

    start = np.asarray(scenario.positions, float)
    if name == "no_change":
        later = start
    elif name == "compromise":
        later = np.broadcast_to(scenario_compromise(scenario), start.shape)
    elif name == "median":
        later = np.broadcast_to(scenario_median(scenario), start.shape)
    else:
        raise ValueError(f"unknown baseline {name!r}; allowed: {', '.join(BASELINES)}")
    return np.stack([start] + [later] * max(int(rounds), 0))


def history_table(history: np.ndarray, scenario: "Scenario") -> pd.DataFrame:
    """A position history (R + 1, N, K) as the tidy table a run records (round, actor, issue, position)."""
    rounds, n, k = history.shape
    return pd.DataFrame({
        "round": np.repeat(np.arange(rounds), n * k),
        "actor": np.tile(np.repeat(np.array(scenario.actor_ids, dtype=object), k), rounds),
        "issue": np.tile(np.array(scenario.issue_ids, dtype=object), rounds * n),
        "position": history.ravel(),
    })


_BASELINES: dict[tuple, dict[str, float]] = {}


def baseline_scores(record: ObservedRecord, mapping: Mapping[int, str], scenario: "Scenario",
                    fast: bool = True) -> dict[str, float]:
    """MAE of every :data:`BASELINES` history on the record's points, by the code that scores a run (``fast``:
    :func:`score_columns`'s; else :func:`run_scores`'s, from a tidy table); cached by the record, the mapping
    and the scenario's contents."""
    key = (record.digest or id(record), tuple(sorted(mapping.items())), scenario.digest, fast)
    if key not in _BASELINES:
        horizon = max(mapping, default=0)
        out = {}
        for name in BASELINES:
            history = baseline_history(scenario, name, horizon)
            out[name] = (_history_mae(history, record, mapping, scenario) if fast
                         else _table_mae(history_table(history, scenario), record, mapping, scenario))[0]
        _BASELINES.clear() if len(_BASELINES) > 64 else None
        _BASELINES[key] = out
    return dict(_BASELINES[key])


@dataclass(frozen=True)
class Leakage:
    """What a record shares with a scenario's inputs (:func:`leakage`)."""

    points: int  # observed points at mapped rounds
    equal_inputs: int  # of them, equal to the scenario's input position (no change matches them exactly)
    at_round_zero: int  # of them, mapped to round 0: the scenario's own date
    examples: tuple[str, ...] = ()  # a few "actor.issue" of the equal points

    def warning(self) -> str | None:
        """One line when some observed point is the scenario's input, else None."""
        if not (self.equal_inputs or self.at_round_zero):
            return None
        parts = []
        if self.equal_inputs:
            shown = ", ".join(self.examples[:4]) + (", ..." if len(self.examples) > 4 else "")
            parts.append(f"{self.equal_inputs} of {self.points} observed points equal the scenario's own inputs "
                         f"({shown}): no change matches them exactly")
        if self.at_round_zero:
            parts.append(f"{self.at_round_zero} are mapped to round 0, the scenario's own date")
        return "warning: leakage: " + "; ".join(parts) + "; read skill against no change, not mae alone"


def leakage(record: ObservedRecord, mapping: Mapping[int, str], scenario: "Scenario") -> Leakage:
    """How many observed points (at mapped rounds) equal the scenario's inputs, and how many are mapped to
    round 0 (the scenario's own date)."""
    rounds, actors, issues, observed_positions, spans = _observation_index(record, mapping, scenario)
    inputs = np.asarray(scenario.positions, float)[actors, issues]
    equal = np.abs(inputs - observed_positions) <= 1e-9 * np.maximum(spans, 1.0)
    names = tuple(dict.fromkeys(f"{scenario.actor_ids[a]}.{scenario.issue_ids[k]}"
                                for a, k, e in zip(actors, issues, equal) if e))
    return Leakage(points=int(len(rounds)), equal_inputs=int(equal.sum()), at_round_zero=int((rounds == 0).sum()),
                   examples=names)


# --------------------------------------------------------------------------------------------------
# The score table (python -m experiments.score)
# --------------------------------------------------------------------------------------------------


def score_table(runs: pd.DataFrame, observed: "ObservedRecord | bool", by: str | list[str] = "protocol",
                baselines: bool = True) -> pd.DataFrame:
    """One row per ``by`` group of a runs table that has score columns, and (``baselines``) one row per
    baseline under them.

    Columns: runs; mae, the mean trajectory MAE (mae_sd: its spread over runs); skill = 1 - mean mae / mean
    MAE of no change; outcome_match, the share of runs that end as the record does; agreement, war and
    no_deal, the shares of the :data:`OUTCOME_CLASSES`; brier, the Brier score of those shares against the
    record's class; brier_skill = 1 - brier / the base rate's brier; end_round_error; outcome, the most
    common outcome class. Baseline rows (``(no change)``, ``(compromise)``, ``(median)``, ``(base rate)``)
    are labelled in the first ``by`` column; their columns that do not apply are NaN.
    ``observed``: the record (a bare bool, the record's agreement, is the older form: agreement Brier only).
    """
    if isinstance(observed, bool):
        record_class = "agreement" if observed else "war"
        base_rate: dict[str, float] = dict(ObservedRecord.base_rate)
    else:
        record_class, base_rate = observed.outcome_class, dict(observed.base_rate)
    runs = runs.copy()
    if "score_outcome_class" not in runs:
        runs["score_outcome_class"] = [outcome_class_of(a, e) for a, e in
                                       zip(runs["agreement"], runs.get("ending", pd.Series("war", index=runs.index)))]
    base_brier = brier_forecast(base_rate, record_class)
    group = runs.groupby(by, sort=False)
    brier = group["score_outcome_class"].apply(lambda c: brier_outcome(c, record_class))
    no_change = group["score_mae_no_change"].mean() if "score_mae_no_change" in runs else np.nan
    table = pd.DataFrame({
        "runs": group.size(),
        "mae": group["score_mae"].mean(),
        "mae_sd": group["score_mae"].std(ddof=0),
        "skill": 1.0 - group["score_mae"].mean() / no_change,
        "outcome_match": group["score_outcome_match"].mean(),
        "agreement": group["score_outcome_class"].apply(lambda c: float((c == "agreement").mean())),
        "war": group["score_outcome_class"].apply(lambda c: float((c == "war").mean())),
        "no_deal": group["score_outcome_class"].apply(lambda c: float((c == "no_deal_no_war").mean())),
        "brier": brier,
        "brier_skill": 1.0 - brier / base_brier if base_brier > 0 else np.nan,
        "end_round_error": group["score_end_round_error"].mean(),
        "outcome": group["score_outcome"].agg(lambda s: s.value_counts().index[0]),
    })
    if isinstance(no_change, pd.Series):  # no change exact: skill undefined
        table.loc[no_change <= 0, "skill"] = np.nan
    table = table.reset_index()
    if not baselines or "score_mae_no_change" not in runs:
        return table
    first = by if isinstance(by, str) else by[0]
    reference = float(runs["score_mae_no_change"].mean())
    rows = []
    for name in BASELINES:
        mae = float(runs[f"score_mae_{name}"].mean())
        rows.append({first: f"({name.replace('_', ' ')})", "mae": mae,
                     "mae_sd": float(runs[f"score_mae_{name}"].std(ddof=0)), "skill": skill(mae, reference)})
    rows.append({first: "(base rate)", "agreement": base_rate["agreement"], "war": base_rate["war"],
                 "no_deal": base_rate["no_deal_no_war"], "brier": base_brier,
                 "brier_skill": 0.0 if base_brier > 0 else np.nan})
    extra = pd.DataFrame(rows, columns=table.columns)
    for column in ([] if isinstance(by, str) else by[1:]) + ["outcome"]:
        extra[column] = pd.Series([""] * len(extra), dtype=object)
    return pd.concat([table, extra], ignore_index=True)
