"""Structured-config schema (Hydra ConfigStore) and the one error type a user can cause.

Every experiment is a Hydra config composed from ``configs/``. The dataclasses here are the schema
Hydra validates the composed config against (types, unknown keys); :mod:`sim.domain.scenario` and the
protocol/strategy registries then check values and cross-references. Any mistake a user can make ends
in a :class:`ConfigError`, which entry points print as one line and exit with status 2
(``experiments/cli.py``). Nothing here exits the process or touches the environment.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Dict, List, Optional

from omegaconf import MISSING

from sim.domain.errors import ConfigError

#: Repository root and the Hydra config directory (the package is installed in editable mode).
REPO_ROOT = Path(__file__).resolve().parents[2]
CONFIG_DIR = REPO_ROOT / "configs"


# --------------------------------------------------------------------------------------------------
# Schema. Mappings keyed by id (not lists) so that every number is addressable by an override such as
# scenario.actors.russia.salience.enlargement=0.9 (sweeps depend on this). The scenario's checks
# (sim.domain.scenario.build) take the allowed keys from these fields, in this order: the order of
# "unknown key; allowed: ..." messages.
# --------------------------------------------------------------------------------------------------


@dataclass
class IssueConfig:
    """One negotiated issue (MODEL.md §1)."""

    label: str = MISSING
    low: str = ""  # what the low end of the scale means (0 = closest to Moscow's Dec 2021 drafts)
    high: str = ""  # what the high end means
    status_quo: float = MISSING  # reversion point if no deal, in scale units
    scale: List[float] = field(default_factory=lambda: [0.0, 100.0])  # [lower, upper]
    unit: str = ""
    levels: Optional[Dict[str, float]] = None  # discrete issue: label -> point on the scale
    indivisible: bool = False  # no split: only the scale's ends (or the levels, if any) are outcomes
    note: str = ""


@dataclass
class OutsideOptionConfig:
    """What an actor gets without agreement (MODEL.md §3)."""

    kind: str = "status_quo"  # status_quo | reservation | war
    value: Optional[float] = None  # reservation utility in [0, 1] (kind=reservation)
    optimism: float = 1.0  # multiplies the war win probability (kind=war); capped at p = 1
    cost: float = 0.0  # utility cost of war, >= 0 (kind=war)
    opponents: Optional[List[str]] = None  # actor ids of the other side; default: all outside the bloc
    shift: float = 0.0  # change of the war win probability per round (kind=war): < 0 = growing weaker


@dataclass
class RedLineConfig:
    """A bound an actor never accepts crossing on one issue (a utility cliff; docs/explanation/why-talks-fail.md)."""

    min: Optional[float] = None  # lowest acceptable outcome (scale units)
    max: Optional[float] = None  # highest acceptable outcome
    levels: Optional[List[str]] = None  # discrete issue: the acceptable level labels
    note: str = ""


@dataclass
class PackageConfig:
    """Accept nothing unless a set of issues jointly moves far enough (Russia's "no cherry-picking")."""

    issues: List[str] = field(default_factory=list)
    weights: Optional[Dict[str, float]] = None  # issue id -> weight; default: the actor's saliences
    max: Optional[float] = None  # the weighted mean of the outcomes on ``issues`` must be <= max
    min: Optional[float] = None  # ... or >= min
    note: str = ""


@dataclass
class ActorConfig:
    """One party (MODEL.md §1)."""

    name: str = ""
    capability: float = MISSING  # > 0; enters only as ratios
    position: Dict[str, float] = field(default_factory=dict)  # issue id -> ideal point (scale units)
    salience: Dict[str, float] = field(default_factory=dict)  # issue id -> salience in [0, 1]
    risk_exponent: float = 1.0  # rho in MODEL.md §2 (1 linear, 2 quadratic)
    discount_factor: float = 1.0  # delta in (0, 1]
    veto: List[str] = field(default_factory=list)  # issue ids on which this actor's consent is needed
    bloc: Optional[str] = None  # actors that coordinate share a bloc name
    strategy: Optional[str] = None  # overrides the default strategy (configs/strategy/)
    concession_exponent: Optional[float] = None  # overrides the strategy's exponent e
    outside_option: OutsideOptionConfig = field(default_factory=OutsideOptionConfig)
    red_lines: Dict[str, RedLineConfig] = field(default_factory=dict)  # issue id -> bound
    package: Optional[PackageConfig] = None  # all-or-nothing linkage of issues
    credibility: Dict[str, float] = field(default_factory=dict)  # issue id -> kappa in [0, 1]
    note: str = ""


@dataclass
class BudgetConfig:
    """A divisible pie: the outcomes on ``issues`` must sum to ``total`` (MODEL.md §4.2)."""

    issues: List[str] = field(default_factory=list)
    total: float = 100.0


@dataclass
class ClassroomConfig:
    """A teacher's note for a classroom scenario (configs/scenario/classroom/)."""

    learning_goal: str = ""
    minutes: int = 50
    rounds: Optional[int] = None  # round limit the app starts with (the deadline); None = 20
    look_for: List[str] = field(default_factory=list)  # what to watch in the app
    questions: List[str] = field(default_factory=list)  # discussion questions
    answer: str = ""  # worked answer where there is one (e.g. the warm-up's Nash solution)
    what_happened: str = ""  # the historical outcome, for the debrief


@dataclass
class RulesConfig:
    """Which mechanisms of bargaining failure bind (docs/explanation/why-talks-fail.md). A rule that is
    off is still declared: outcome rows report the red lines a bundle crosses either way."""

    red_lines: bool = True
    package: bool = True
    credibility: bool = True
    power_shift: bool = True


@dataclass
class QuotaConfig:
    """One quota of a weighted-majority rule: the accepting voters' weights must reach ``threshold``, or
    ``share`` of the voters' total weight (exactly one of the two; sim/domain/voting.py)."""

    weights: Dict[str, float] = field(default_factory=dict)  # voter id -> weight >= 0; {} = 1 each
    threshold: Optional[float] = None  # absolute
    share: Optional[float] = None  # of the voters' total weight, (0, 1]


@dataclass
class VotingConfig:
    """A weighted-majority consent rule (``protocol.consent=weighted``; sim/domain/voting.py)."""

    required: Optional[List[str]] = None  # actors whose consent is always needed (default: none)
    voters: Optional[List[str]] = None  # whose votes count (default: every actor not required)
    quotas: Dict[str, QuotaConfig] = field(default_factory=dict)  # name -> quota; every one must be met


@dataclass
class ScenarioConfig:
    """A negotiation: issues and actors, written in YAML or imported from CSV (``path``)."""

    id: str = MISSING
    name: str = ""
    description: str = ""
    source: str = ""
    issues: Dict[str, IssueConfig] = field(default_factory=dict)
    actors: Dict[str, ActorConfig] = field(default_factory=dict)
    budget: Optional[BudgetConfig] = None
    # CSV import (scenario=from_csv): BDM/DEU long format Actor,Capability,Position,Salience[,Issue]
    path: Optional[str] = None  # a CSV file, or a directory with one CSV per issue
    scale: List[float] = field(default_factory=lambda: [0.0, 100.0])  # scale for imported issues
    status_quo: Dict[str, float] = field(default_factory=dict)  # imported issue id -> status quo
    classroom: Optional[ClassroomConfig] = None  # teacher's note (classroom scenarios)
    rules: RulesConfig = field(default_factory=RulesConfig)  # switch the failure mechanisms on/off
    voting: Optional[VotingConfig] = None  # weighted-majority consent rule (sim/domain/voting.py)
    procedure: Optional[Dict[str, Any]] = None  # institutional facts (e.g. DEU: procedure, voting rule)


@dataclass
class RecordConfig:
    """What a run records besides its outcome row."""

    rounds: bool = True  # per round x actor x issue positions (rounds.parquet)
    events: bool = True  # offers, responses, conflicts (events.parquet)
    figures: bool = True


@dataclass
class FiguresConfig:
    """How figures are written (presentation only: not part of a run's config hash)."""

    format: str = "png"  # png | pdf | svg
    dpi: int = 150  # raster resolution (png); pdf and svg are vector
    width: Optional[str] = None  # single (3.5 in) | double (7.2 in) | inches: drawn at that final width, text >= 7 pt
    details: bool = False  # draw scenario, protocol, n and seeds in the figure (slides); always in figures/captions.md


FIGURE_FORMATS = ("png", "pdf", "svg")
#: ``figures.width`` by name (a journal's single column, its full width), in inches; else a number of inches.
FIGURE_WIDTHS = {"single": 3.5, "double": 7.2}
FIGURE_WIDTH_RANGE = (2.0, 20.0)

LEVELS = ("school", "university")  # reading levels of what students read (role cards, the classroom app)


def check_level(level: Any, source: str = "command line") -> str:
    """``level``, checked: school (short sentences, no code names, a glossary) or university.

    Raises:
        ConfigError: naming ``source``, the key and what is allowed.
    """
    if level not in LEVELS:
        raise ConfigError(source, "level", f"{level!r} is not a reading level; allowed: {', '.join(LEVELS)}")
    return str(level)


@dataclass
class SweepConfig:
    """A sweep (configs/sweep/<name>.yaml, key ``sweep``); see sim.runs.sweep and docs/how-to/sweeps.md."""

    name: str = "sweep"
    description: str = ""
    design: str = "grid"  # grid | zip | random | lhs | sobol | morris
    samples: int = 0  # random/lhs: points; sobol: base N (N(D+2) points); morris: trajectories
    replicates: int = 1
    seed: int = 0  # master seed: run seeds are SeedSequence(seed).spawn by run index
    shard_size: int = 100  # runs per shard (the unit of resume and of parallel work)
    parameters: Dict[str, Any] = field(default_factory=dict)  # config key -> {values} | {low, high[, steps]}
    outputs: List[str] = field(default_factory=lambda: ["agreement"])
    heatmap: List[str] = field(default_factory=list)  # two parameter keys for the agreement heatmap
    references: Optional[List[str]] = None  # reference columns its rows compute (nash, pareto, range, deal_gap); null: all
    workers: int = 1  # processes on this machine
    out: Optional[str] = None  # results folder (default: Hydra's run dir); re-run to resume
    jobs: int = 1  # cluster split: this job runs shards with index % jobs == job, no aggregation
    job: int = 0
    progress: bool = True


#: How a sweep is run, not what it computes (processes, folder, cluster split, progress bar): not its design.
SWEEP_RUN_KEYS = ("workers", "out", "jobs", "job", "progress")
#: The keys a sweep node has: the schema's, and ``protocols`` (``protocol=all`` crossed into the design, as a
#: sweep folder's design.json records it).
SWEEP_KEYS = tuple(f.name for f in fields(SweepConfig)) + ("protocols",)


@dataclass
class ObservedConfig:
    """The observed record runs are scored against (configs/observed/; sim/runs/scoring.py)."""

    path: str = MISSING  # the record (YAML), relative to the repository root or absolute
    rounds: Dict[int, str] = field(default_factory=dict)  # model round -> date of an observed round in the record


@dataclass
class CalibrateConfig:
    """An ABC-SMC calibration (configs/calibrate/<name>.yaml); see sim/runs/calibration.py and docs/how-to/calibrate.md."""

    name: str = "calibration"
    description: str = ""
    seed: int = 0  # master seed: every simulation's seed is a child of it (recorded in the history)
    population: int = 100  # particles per generation
    generations: int = 4  # ABC-SMC generations (populations) in total, counting those already stored
    min_epsilon: float = 0.0  # stop early once the acceptance threshold falls to this distance
    max_simulations: int = 0  # stop after this many simulations in total (0: no limit)
    parameters: Dict[str, Any] = field(default_factory=dict)  # config key -> {prior, low, high}
    distance: Dict[str, float] = field(default_factory=dict)  # weights: trajectory, outcome, timing
    predictive: int = 30  # posterior draws simulated for the predictive check
    replicates: int = 1  # runs per particle (different seeds); the distance is their mean
    epsilons: List[float] = field(default_factory=list)  # fixed acceptance threshold per generation; [] = adaptive
    out: Optional[str] = None  # results folder (default: Hydra's run dir); re-run on it to resume


@dataclass
class BenchmarkConfig:
    """A validation benchmark (configs/benchmark/<name>.yaml; sim/runs/benchmark.py, docs/explanation/validation.md)."""

    name: str = "deu"
    capability: str = "votes"  # votes | population | equal | gdp
    supranational: str = "largest"  # Commission and Parliament (co-decision): largest | council
    proposals: int = 0  # the first n proposals; 0 = all
    replicates: int = 3  # seeds of the protocols that draw
    rounds: int = 20  # round limit of every protocol run
    deadline: int = 10  # offers: rounds before breakdown
    strategy: str = "linear"  # offers: concession strategy
    seed: int = 0  # master seed: run seeds, folds, bootstrap
    folds: int = 5  # k-fold cross-validation by proposal
    bootstrap: int = 2000  # resamples of proposals
    workers: int = 1  # processes
    models: List[str] = field(default_factory=list)  # [] = every model
    out: Optional[str] = None  # results folder (default: Hydra's run dir); re-run on it to resume
    progress: bool = True


@dataclass
class Config:
    """Top-level config composed by Hydra (configs/config.yaml)."""

    scenario: ScenarioConfig = MISSING
    protocol: Any = MISSING  # validated by the protocol registry (sim.engine.protocols)
    strategy: Any = MISSING  # default concession strategy, validated by sim.domain.strategies
    seed: int = 0
    rounds: int = 20
    experiment: str = "run"
    record: RecordConfig = field(default_factory=RecordConfig)
    figures: FiguresConfig = field(default_factory=FiguresConfig)
    level: str = "university"  # reading level of texts for students (cards): school | university
    sweep: Optional[SweepConfig] = None
    observed: Optional[ObservedConfig] = None  # scoring against the record (configs/observed/)
    calibrate: Optional[CalibrateConfig] = None  # python -m experiments.calibrate calibrate=<name>
    benchmark: Optional[BenchmarkConfig] = None  # python -m experiments.benchmark deu (configs/benchmark/)


def figure_settings(cfg: Any = None) -> tuple[str, int]:
    """(format, dpi) from a config's ``figures`` node, checked (:func:`check_figure_settings`)."""
    node = (cfg.get("figures") if cfg is not None else None) or {}
    check_figure_layout(node.get("width"), node.get("details", False))  # a bad width ends here too, before any run
    return check_figure_settings(node.get("format", "png"), node.get("dpi", 150))


def check_figure_settings(fmt: Any = "png", dpi: Any = 150, source: str = "command line") -> tuple[str, int]:
    """(format, dpi), checked: png | pdf | svg; dpi a whole number from 30 to 1200. The one check of
    ``figures.format`` and ``figures.dpi``, wherever they come from (a config, a command's options).

    Raises:
        ConfigError: naming ``source``, the key and what is allowed.
    """
    fmt = str(fmt)
    if fmt not in FIGURE_FORMATS:
        raise ConfigError(source, "figures.format", f"{fmt!r}; allowed: {', '.join(FIGURE_FORMATS)}")
    if not isinstance(dpi, int) or not 30 <= dpi <= 1200:
        raise ConfigError(source, "figures.dpi", f"{dpi!r}; allowed: a whole number from 30 to 1200")
    return fmt, dpi


def figure_layout(cfg: Any = None, source: str = "command line") -> tuple[float | None, bool]:
    """(width in inches or None, details) from a config's ``figures`` node, checked (:func:`check_figure_layout`)."""
    node = (cfg.get("figures") if cfg is not None else None) or {}
    return check_figure_layout(node.get("width"), node.get("details", False), source)


def check_figure_layout(width: Any = None, details: Any = False, source: str = "command line") -> tuple[float | None, bool]:
    """(width, details), checked: ``figures.width`` single (3.5 in), double (7.2 in) or inches from 2 to 20
    (None: each figure's own size); ``figures.details`` true or false.

    Raises:
        ConfigError: naming ``source``, the key and what is allowed.
    """
    low, high = FIGURE_WIDTH_RANGE
    inches: float | None = None
    if width is not None and str(width).strip().lower() not in ("", "none", "null", "auto"):
        text = str(width).strip().lower()
        try:
            inches = FIGURE_WIDTHS[text] if text in FIGURE_WIDTHS else float(text.removesuffix("in"))
        except ValueError:
            inches = float("nan")
        if not low <= inches <= high:
            raise ConfigError(source, "figures.width", f"{width!r}; allowed: single ({FIGURE_WIDTHS['single']} in), "
                                                       f"double ({FIGURE_WIDTHS['double']} in) or inches from "
                                                       f"{low:g} to {high:g}")
    if isinstance(details, str) and details.lower() in ("true", "false"):
        details = details.lower() == "true"
    if not isinstance(details, bool):
        raise ConfigError(source, "figures.details", f"{details!r}; allowed: true, false")
    return inches, details


def register_configs() -> None:
    """Register the schema in Hydra's ConfigStore (idempotent). Entry points and tests call this."""
    from hydra.core.config_store import ConfigStore

    from sim.domain.protocol_params import PARAMS

    store = ConfigStore.instance()
    store.store(name="base_config", node=Config)
    for name, params in PARAMS.items():  # configs/protocol/<name>.yaml names <name>_schema first
        store.store(group="protocol", name=f"{name}_schema", node=params)

