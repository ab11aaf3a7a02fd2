"""The run specification: the one way anything builds a model (DESIGN.md "How the parts meet").

A composed config (Hydra's, a sweep point's, the classroom's, a results folder's ``config.yaml``)
becomes a list of :class:`RunSpec` in exactly one place, :func:`specs_from_config`; a ``RunSpec``
builds its :class:`~sim.engine.model.BargainingModel` (:meth:`RunSpec.build`) and runs it
(:meth:`RunSpec.run`). ``protocol=all`` is simply a list of specs, one per protocol, with the same
scenario and seed. Every results row carries the spec's content hash (``spec_hash``), so a table says
which specification produced it whatever the entry point.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping

from sim.domain.errors import ConfigError
from sim.domain.scenario import Scenario, scenario_from_config, scenario_source

if TYPE_CHECKING:  # pragma: no cover
    from sim.engine.model import BargainingModel
    from sim.runs.result import RunResult

#: Config keys that never change what a run computes (left out of :func:`config_hash`).
PRESENTATION_KEYS = ("seed", "hydra", "experiment", "record", "figures", "level")


def config_hash(cfg: Any) -> str:
    """SHA-256 (16 hex digits) of the resolved config without seed, output and Hydra settings."""
    data = _plain(cfg)
    data = {k: v for k, v in data.items() if k not in PRESENTATION_KEYS}
    text = json.dumps(data, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _plain(cfg: Any) -> dict[str, Any]:
    """A config (DictConfig or mapping) as plain resolved containers."""
    from omegaconf import DictConfig, OmegaConf

    if isinstance(cfg, DictConfig):
        return OmegaConf.to_container(cfg, resolve=True)
    return dict(cfg)


def protocol_defaults(name: str, source: str = "configs/protocol/all.yaml") -> dict[str, Any]:
    """The parameters in ``configs/protocol/<name>.yaml`` (its ``defaults`` list, which names the
    schema, left out)."""
    from sim.runs.configs import group_names, load_group

    if name == "all" or name not in group_names("protocol"):
        from sim.engine.protocols import PROTOCOLS

        raise ConfigError(source, "protocol.protocols",
                          f"unknown protocol {name!r}; allowed: {', '.join(sorted(PROTOCOLS))}")
    return load_group("protocol", name, checked=False)


def shared_settings(protocol_cfg: Mapping[str, Any], source: str = "configs/protocol/all.yaml") -> dict[str, Any]:
    """``protocol=all`` with settings (``protocol.order=recognition``, or a sweep's ``protocol:`` block):
    the settings, each checked to belong to at least one of the protocols it runs; every protocol then
    takes those it has (:func:`all_params`)."""
    from dataclasses import fields

    from sim.engine.protocols import PROTOCOLS

    settings = {k: v for k, v in protocol_cfg.items() if k not in ("name", "protocols", "defaults")}
    names = protocols_of({**protocol_cfg, "name": "all"})
    known = {f.name for n in names if n in PROTOCOLS for f in fields(PROTOCOLS[n].Params)} - {"name"}
    for key in settings:
        if key not in known:
            raise ConfigError(source, f"protocol.{key}", f"none of the protocols of protocol=all ({', '.join(names)}) "
                                                         f"has this key; allowed: {', '.join(sorted(known))}")
    return settings


def all_params(name: str, settings: Mapping[str, Any]) -> dict[str, Any]:
    """One protocol's parameters under ``protocol=all``: its file's defaults, then the shared settings it has."""
    defaults = protocol_defaults(name)
    return {**defaults, **{k: v for k, v in settings.items() if k in defaults}}


def protocols_of(protocol_cfg: Mapping[str, Any]) -> list[str]:
    """The protocols a ``protocol`` config node runs: its own name, or for ``all`` its ``protocols``
    list (default: every registered protocol)."""
    from sim.engine.protocols import PROTOCOLS

    if protocol_cfg.get("name") != "all":
        return [str(protocol_cfg.get("name"))]
    return [str(n) for n in (protocol_cfg.get("protocols") or PROTOCOLS)]


def check_seed(seed: Any, source: str = "command line") -> int | None:
    """A run's seed: a whole number >= 0 (numpy's SeedSequence takes no negative entropy), or None
    (fresh OS entropy, not reproducible)."""
    if seed is None:
        return None
    if isinstance(seed, bool) or not hasattr(seed, "__index__"):
        raise ConfigError(source, "seed", f"{seed!r}; allowed: a whole number >= 0")
    seed = int(seed)
    if seed < 0:
        raise ConfigError(source, "seed", f"{seed}; allowed: a whole number >= 0")
    return seed


@dataclass(frozen=True)
class RunSpec:
    """Everything a run is, validated: scenario, protocol and its ``Params``, default strategy, round
    limit, seed and what to record. Build models only through :meth:`build`.

    ``params`` may be given as a mapping; it is checked and stored as the protocol's ``Params``.
    """

    scenario: Scenario
    protocol: str = "eu"
    params: Any = None
    strategy: str = "linear"
    strategy_exponent: float | None = None
    rounds: int = 20
    seed: int | None = 0
    record_rounds: bool = True
    record_events: bool = True
    config_hash: str = ""  # of the config it came from ("" for the Python API)
    source: str = ""  # the file the scenario came from, for error messages
    observed: Any = field(default=None, compare=False)  # the record rows are scored against (score_* columns)
    #: The reference columns its rows compute (sim.engine.metrics.REFERENCES: nash, pareto, range, deal_gap);
    #: None: all of them. The others are in every row all the same, holding NaN or None (a calibration's
    #: distance needs none: sim/runs/calibration.py).
    references: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        from sim.domain.checks import check_exponent, check_rounds, check_strategy
        from sim.domain.strategies import STRATEGIES
        from sim.engine.protocols import PROTOCOLS
        from sim.engine.protocols.registry import build_params, check_protocol_needs

        source = self.source or scenario_source(self.scenario.id)
        params = build_params(self.protocol, self.params)
        PROTOCOLS[self.protocol].validate(params)
        object.__setattr__(self, "params", params)
        object.__setattr__(self, "seed", check_seed(self.seed))
        object.__setattr__(self, "rounds", check_rounds(self.rounds))
        check_strategy(self.strategy)
        if self.strategy_exponent is None:  # the strategy's own default, written out: equal runs, equal hashes
            object.__setattr__(self, "strategy_exponent", getattr(STRATEGIES[self.strategy](), "exponent", None))
        else:
            check_exponent(self.strategy_exponent, f"configs/strategy/{self.strategy}.yaml", "strategy.exponent")
        check_protocol_needs(self.scenario, self.protocol, source)
        from sim.engine.metrics import check_references

        object.__setattr__(self, "references", check_references(self.references))
        self.scoring  # a bad observed record or observed.rounds ends here, not in every run

    @cached_property
    def scoring(self) -> Any:
        """The observed record and round map rows are scored against (None: no scoring), read once per
        spec (its copies for other seeds keep it) instead of once per run."""
        from sim.runs.scoring import observed_settings

        return observed_settings(self.observed)

    @cached_property
    def hash(self) -> str:
        """Content hash (16 hex digits) of what the run computes: scenario content, protocol and its
        parameters, strategy, round limit. Not the seed or what is recorded."""
        data = {"scenario": self.scenario.digest, "protocol": self.protocol, "params": asdict(self.params),
                "strategy": self.strategy, "exponent": self.strategy_exponent, "rounds": self.rounds}
        if self.references is not None:  # rows that skip references are other rows (all: the hash as before)
            data["references"] = list(self.references)
        text = json.dumps(data, sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def with_seed(self, seed: int | None) -> "RunSpec":
        """This spec with another seed. Nothing else changes, so nothing is checked or hashed again (a
        sweep calls this once per run): the copy keeps the cached hash, which does not cover the seed."""
        import copy

        twin = copy.copy(self)
        object.__setattr__(twin, "seed", check_seed(seed))
        return twin

    def with_references(self, references: Any) -> "RunSpec":
        """This spec with its rows computing only ``references`` (names of
        :data:`sim.engine.metrics.REFERENCES`; None or "all": every one). Checked; nothing else is."""
        import copy

        from sim.engine.metrics import check_references

        references = check_references(references)
        if references == self.references:
            return self
        twin = copy.copy(self)
        object.__setattr__(twin, "references", references)
        twin.__dict__.pop("hash", None)  # the hash covers what the rows hold
        return twin

    def model_arguments(self) -> dict[str, Any]:
        """The keyword arguments of :class:`~sim.engine.model.BargainingModel` for this spec (a subclass with
        its own constructor, such as the classroom's, passes them on to ``super().__init__``)."""
        return dict(scenario=self.scenario, protocol=self.protocol, protocol_params=self.params,
                    strategy=self.strategy, strategy_exponent=self.strategy_exponent, rounds=self.rounds,
                    rng=self.seed, record_rounds=self.record_rounds, record_events=self.record_events)

    def build(self) -> "BargainingModel":
        """The model of this spec, seeded with ``seed``."""
        from sim.engine.model import BargainingModel

        return BargainingModel(**self.model_arguments())

    def row(self, model: "BargainingModel") -> dict[str, Any]:
        """The outcome row of a finished model of this spec (MODEL.md §6), with ``spec_hash`` and the
        scores against the observed record (``observed``)."""
        from sim.engine.metrics import outcome
        from sim.runs.scoring import score_columns

        row = {**outcome(model, seed=self.seed, config_hash=self.config_hash, references=self.references),
               "spec_hash": self.hash}
        row.update(score_columns(model, row, self.scoring))  # score_* vs the observed record (sim/runs/scoring.py)
        return row

    def run(self) -> "RunResult":
        """Build, run to the end, and return the tables."""
        from sim.runs.result import result_of

        return result_of(self, self.build().run())


def specs_from_config(cfg: Any, base_dir: Path | None = None, source: str | None = None,
                      relocated: Mapping[str, str] | None = None) -> list[RunSpec]:
    """The run specifications of a composed config (Hydra DictConfig or plain dict): one, or one per
    protocol for ``protocol=all``.

    Args:
        cfg: the config (``scenario``, ``protocol``, ``strategy``, ``seed``, ``rounds``, ``record``).
        base_dir: directory against which a relative CSV ``scenario.path`` is resolved.
        source: the file the scenario came from (a user's own YAML), for error messages.
        relocated: where a file the config names (``scenario.path``, ``observed.path``) is read from now
            (a results folder's copy, :func:`sim.runs.results.copy_inputs`); the config and its hash keep
            the path it names.

    Raises:
        ConfigError: naming the file and key of the first bad value.
    """
    data = _plain(cfg)
    scenario_cfg = data.get("scenario") or {}
    source = source or scenario_source(scenario_cfg.get("id"))
    relocated = relocated or {}
    named = str(scenario_cfg["path"]) if scenario_cfg.get("path") else None  # the path the config names
    observed = data.get("observed")
    if scenario_cfg.get("path") and str(scenario_cfg["path"]) in relocated:
        scenario_cfg = {**scenario_cfg, "path": relocated[str(scenario_cfg["path"])]}
    if isinstance(observed, Mapping) and observed.get("path") and str(observed["path"]) in relocated:
        observed = {**observed, "path": relocated[str(observed["path"])]}
    scenario = scenario_from_config(scenario_cfg, source=source, base_dir=base_dir)
    protocol_cfg = dict(data.get("protocol") or {})
    protocol_cfg.pop("defaults", None)
    name = protocol_cfg.pop("name", None)
    if name is None:
        raise ConfigError("configs/protocol", "protocol.name", "missing; the protocol's registry name")
    strategy_cfg = dict(data.get("strategy") or {})
    record = dict(data.get("record") or {})
    common = dict(
        scenario=scenario, strategy=str(strategy_cfg.get("name", "linear")),
        strategy_exponent=strategy_cfg.get("exponent"), rounds=data.get("rounds", 20),
        seed=check_seed(data.get("seed", 0)), record_rounds=bool(record.get("rounds", True)),
        record_events=bool(record.get("events", True)), config_hash=config_hash(data),
        source=named or source, observed=observed,
    )
    if name == "all":
        settings = shared_settings({**protocol_cfg, "name": name})
        return [RunSpec(protocol=n, params=all_params(n, settings), **common)
                for n in protocols_of({**protocol_cfg, "name": name})]
    return [RunSpec(protocol=str(name), params={"name": name, **protocol_cfg}, **common)]
