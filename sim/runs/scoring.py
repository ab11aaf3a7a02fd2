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
* **Brier score** of agreement over replicates: (share of replicates that agree - observed agreement)².

The sweep and ``protocol=all`` runs call :func:`score_columns` on each finished model (the per-round table
need not be recorded); ``python -m experiments.score <folder>`` prints the table per protocol.
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
    record = ObservedRecord(
        source=source, scenario=str(data.get("scenario", "")), observations=pd.DataFrame(rows),
        agreement=bool(outcome["agreement"]), ending=str(outcome.get("ending", "")),
        broken_off_by=tuple(sorted(str(a) for a in ([by] if isinstance(by, str) else by))),
        end_date=str(outcome.get("date", "")), digest=key)
    _RECORDS[key] = record
    return record


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
    scenario = model.negotiation
    history = np.stack(model.position_history)  # (R + 1, N, K)
    rounds, n, k = history.shape
    return pd.DataFrame({
        "round": np.repeat(np.arange(rounds), n * k),
        "actor": np.tile(np.repeat(np.array(scenario.actor_ids, dtype=object), k), rounds),
        "issue": np.tile(np.array(scenario.issue_ids, dtype=object), rounds * n),
        "position": history.ravel(),
    })


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
    if unobserved), score_outcome, score_outcome_match, score_end_round_error."""
    errors = trajectory_errors(rounds, observed_table(record, mapping), dict(zip(scenario.issue_ids, scenario.spans)))
    overall, per_issue = trajectory_distance(errors)
    return _score_row(overall, [float(per_issue.get(issue, np.nan)) for issue in scenario.issue_ids], row, record,
                      mapping, scenario)


def _score_row(overall: float, per_issue: list[float], row: Mapping[str, Any], record: ObservedRecord,
               mapping: Mapping[int, str], scenario: "Scenario") -> dict[str, Any]:
    target = end_round(record, mapping)
    agreement, cause = bool(row["agreement"]), str(row.get("breakdown_cause") or "")
    out: dict[str, Any] = {"score_mae": overall}
    out.update({f"score_mae_{issue}": value for issue, value in zip(scenario.issue_ids, per_issue)})
    out.update({
        "score_outcome": outcome_label(agreement, cause),
        "score_outcome_match": outcome_matches(agreement, cause, str(row.get("ending", "")), record),
        "score_end_round_error": float("nan") if target is None else float(abs(int(row["rounds"]) - target)),
    })
    return out


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
    # The numbers of run_scores(trajectory_table(model), ...), with numpy indexing instead of pandas joins:
    # a sweep scores every run, and a run that ends in its first round costs about as much as the scoring.
    rounds, actors, issues, observed_positions, spans = _observation_index(record, mapping, scenario)
    history = np.stack(model.position_history)
    simulated = history[np.minimum(rounds, len(history) - 1), actors, issues]
    errors = np.abs(simulated - observed_positions) / spans * 100.0
    counts = np.bincount(issues, minlength=scenario.n_issues)
    sums = np.bincount(issues, weights=errors, minlength=scenario.n_issues)
    per_issue = [float(total / count) if count else float("nan") for total, count in zip(sums, counts)]
    overall = float(errors.mean()) if errors.size else float("nan")
    return _score_row(overall, per_issue, row, record, mapping, scenario)


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


def score_table(runs: pd.DataFrame, observed_agreement: bool, by: str = "protocol") -> pd.DataFrame:
    """One row per ``by`` group of a runs table that has score columns: runs, mean trajectory MAE (and its
    spread over runs), share of runs whose outcome class matches, share that agree, Brier score of
    agreement, mean end-round error, and the most common outcome class."""
    group = runs.groupby(by, sort=False)
    table = pd.DataFrame({
        "runs": group.size(),
        "mae": group["score_mae"].mean(),
        "mae_sd": group["score_mae"].std(ddof=0),
        "outcome_match": group["score_outcome_match"].mean(),
        "agreement": group["agreement"].mean(),
        "brier": group["agreement"].apply(lambda a: brier_score(a, observed_agreement)),
        "end_round_error": group["score_end_round_error"].mean(),
        "outcome": group["score_outcome"].agg(lambda s: s.value_counts().index[0]),
    })
    return table.reset_index()
