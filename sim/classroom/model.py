"""The classroom's model: a per-session :class:`~sim.engine.model.BargainingModel` a teacher tunes and a
student can play one seat of, built from the same composed config the command line would use.

* :class:`Tuning` holds a session's slider settings as the same dotted overrides the command line
  takes (``scenario.actors.russia.capability=0.8``); :func:`overrides` turns the app's choices into
  that command line and :func:`compose` into its Hydra config, so an app run is an ordinary,
  re-runnable run.
* :class:`ClassroomModel` is the model of that config, with an optional human seat (``play_as``;
  offers protocol).
"""

from __future__ import annotations

import copy
import functools
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sim.domain.cache import BoundedCache
from sim.domain.config import CONFIG_DIR
from sim.domain.errors import ConfigError
from sim.engine.metrics import reference_table
from sim.engine.model import BargainingModel
from sim.engine.protocols import PROTOCOLS as REGISTRY
from sim.report.wording import PROTOCOL_NAMES
from sim.runs.spec import specs_from_config

NOBODY = "nobody"  # play_as value: every seat is a model agent
PROTOCOLS = ("offers", "eu", "exchange")  # what the app offers, first = default
SEATED_PROTOCOLS = tuple(name for name in PROTOCOLS if REGISTRY[name].seats)  # a person can take a seat
DEFAULT_SCENARIO = "classroom/jan2022"
DEFAULT_ROUNDS = 20
PROTOCOL_TITLES = {name: PROTOCOL_NAMES.get(name, name) for name in PROTOCOLS}  # the Protocol menu's words


def scenarios() -> list[str]:
    """Scenario names for the app: the classroom pack first, then the research scenarios written in YAML."""
    root = CONFIG_DIR / "scenario"
    classroom = sorted(f"classroom/{p.stem}" for p in (root / "classroom").glob("*.yaml"))
    classroom.remove(DEFAULT_SCENARIO)
    research = sorted(p.stem for p in root.glob("*.yaml") if p.stem != "from_csv")
    return [DEFAULT_SCENARIO, *classroom, *research]


@functools.lru_cache(maxsize=1)
def scenario_titles() -> dict[str, str]:
    """The Scenario menu's words: scenario name (:func:`scenarios`, in that order) -> its title (the
    YAML's ``name``; the file name when it has none or when two files share a title)."""
    import yaml

    titles = {}
    for name in scenarios():
        with open(CONFIG_DIR / "scenario" / f"{name}.yaml", encoding="utf-8") as file:
            data = yaml.safe_load(file) or {}
        titles[name] = str(data.get("name") or name).strip()
    seen: dict[str, int] = {}
    for title in titles.values():
        seen[title] = seen.get(title, 0) + 1
    return {name: title if seen[title] == 1 else f"{title} ({name})" for name, title in titles.items()}


def title_of(key: str, value: Any) -> str:
    """A setting as the menus show it: a scenario or protocol by its title, anything else as it is."""
    table = {"scenario": scenario_titles(), "protocol": PROTOCOL_TITLES}.get(key, {})
    return table.get(str(value), str(value))


@dataclass
class Tuning:
    """A session's slider settings: per scenario, dotted scenario keys -> values.

    Kept per scenario so that switching scenario and back does not lose (or misapply) the settings.
    """

    values: dict[str, dict[str, float]] = field(default_factory=dict)

    def set(self, scenario: str, key: str, value: float) -> None:
        self.values.setdefault(scenario, {})[key] = float(value)

    def get(self, scenario: str, key: str, default: float) -> float:
        return self.values.get(scenario, {}).get(key, default)

    def clear(self, scenario: str) -> None:
        self.values.pop(scenario, None)

    def overrides(self, scenario: str) -> list[str]:
        """``scenario.<key>=<value>`` overrides, in a stable order."""
        return [f"scenario.{key}={value:g}" for key, value in sorted(self.values.get(scenario, {}).items())]


def overrides(scenario: str = DEFAULT_SCENARIO, protocol: str = "offers", seed: int = 1, rounds: int = 0,
              tuning: Tuning | None = None) -> list[str]:
    """The command-line overrides of ``python -m experiments.run`` that describe an app session.

    ``rounds=0`` means the scenario's own suggestion (``classroom.rounds``) or 20."""
    if scenario not in scenarios():
        raise ConfigError("classroom", "scenario", f"unknown scenario {scenario!r}; allowed: {', '.join(scenarios())}")
    if protocol not in PROTOCOLS:
        raise ConfigError("classroom", "protocol", f"unknown protocol {protocol!r}; allowed: {', '.join(PROTOCOLS)}")
    result = [f"scenario={scenario}", f"protocol={protocol}", f"seed={int(seed)}"]
    if rounds:
        result.append(f"rounds={int(rounds)}")
    return result + (tuning.overrides(scenario) if tuning else [])


def compose(overrides_: list[str]):
    """The composed Hydra config for these overrides (as ``experiments.run`` would see it). Composed once
    per set of overrides and copied out: Hydra's compose took 0.3-0.6 s of every new tab, Reset and
    seat change, a copy takes a few ms."""
    return _COMPOSED.get_or_compute(tuple(overrides_), lambda: _compose(list(overrides_)))


def _compose(overrides_: list[str]):
    from omegaconf import open_dict

    from sim.runs.configs import compose_config

    cfg = compose_config(overrides_)  # the one loader (and its lock: Hydra's compose is not thread-safe)
    if not any(o.startswith("rounds=") for o in overrides_):
        note = cfg.scenario.get("classroom") or {}
        with open_dict(cfg):
            cfg.rounds = int(note.get("rounds") or DEFAULT_ROUNDS)
    return cfg


_COMPOSED = BoundedCache("sim.classroom.model.compose", 64, copy=copy.deepcopy)


class ClassroomModel(BargainingModel):
    """A run for the classroom app, built from the same config the command line would compose.

    Args:
        scenario: scenario name (see :func:`scenarios`).
        protocol: ``offers`` (playable), ``eu`` or ``exchange``.
        play_as: an actor id a person plays, or ``"nobody"``.
        seed: the run's seed (as ``seed=`` on the command line).
        rounds: round limit; 0 = the scenario's suggestion.
        tuning: the session's slider settings (:class:`Tuning`).
    """

    def __init__(self, scenario: str = DEFAULT_SCENARIO, protocol: str = "offers", play_as: str = NOBODY,
                 seed: int | str = 1, rounds: int = 0, tuning: Tuning | None = None):
        try:
            seed = int(seed)
        except (TypeError, ValueError):
            raise ConfigError("classroom", "seed", f"{seed!r} is not a whole number") from None
        self.tuning = tuning if tuning is not None else Tuning()
        self.scenario_name = scenario
        self.command = overrides(scenario, protocol, seed, rounds, self.tuning)
        self.cfg = compose(self.command)
        if not rounds:  # the scenario's suggested limit: write it out so the command re-runs the same
            self.command.insert(3, f"rounds={self.cfg.rounds}")
        (spec,) = specs_from_config(self.cfg)
        super().__init__(**spec.model_arguments())
        self.spec = spec
        self.seed = seed
        self.issues = reference_table(spec.scenario, self.disagreement)  # reference solutions, once per model
        self.play_as = NOBODY
        self.draft: np.ndarray | None = None  # the seat's proposal being built in the app
        if play_as and play_as != NOBODY:
            self.take_seat(play_as)

    # ---- the human seat --------------------------------------------------------------------------------
    @property
    def seat(self) -> int | None:
        return self.protocol.seat

    def take_seat(self, actor: str) -> None:
        """A person plays ``actor`` from now on (protocols with seats: :data:`SEATED_PROTOCOLS`)."""
        if not self.protocol.seats:
            raise ConfigError("classroom", "play_as", f"a person can play a seat under protocol "
                                                      f"{', '.join(SEATED_PROTOCOLS)}, not {self.protocol.name}")
        self.protocol.take_seat(actor)
        self.play_as = actor

    @property
    def waiting(self) -> str:
        """"propose", "respond" or "" (the model can go on)."""
        return self.protocol.waiting

    def propose(self, bundle: np.ndarray) -> None:
        """The seat proposes ``bundle``; the round then finishes (the others answer)."""
        self.protocol.propose(bundle)
        self.draft = None
        self.step()

    def respond(self, accept: bool) -> None:
        """The seat answers the pending offer; the round then finishes."""
        self.protocol.respond(accept)
        self.step()

    @property
    def started(self) -> bool:
        """Has anything happened yet (a round played, or the round waiting for the seat)?"""
        return self.round > 0 or bool(self.waiting) or len(self.events_table()) > 0

    @property
    def finished(self) -> bool:
        return not self.running

    def describe(self) -> dict[str, Any]:
        row = super().describe()
        row["play_as"] = self.play_as
        return row
