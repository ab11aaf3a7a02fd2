"""The classroom: a per-session model a teacher tunes and a student can play one seat of.

Everything the browser app (:mod:`sim.classroom.app`) shows or does goes through this module, which
does not import Solara, so that it is tested without a browser:

* :class:`Tuning` holds a session's slider settings as the same dotted overrides the command line
  takes (``scenario.actors.russia.capability=0.8``); :func:`overrides` turns the app's choices into
  that command line, so an app run is an ordinary, re-runnable Hydra config.
* :class:`ClassroomModel` is a :class:`~sim.model.BargainingModel` built from that composed config,
  with an optional human seat (``play_as``; offers protocol).
* :func:`offer_table`, :func:`utilities_by_round`, :func:`seat_view` are the tables the app draws.
* :func:`export` writes the session as a results folder (runs/events/issues Parquet, config.yaml,
  manifest.json with the command line) and its debrief report (``report.html``).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from omegaconf import OmegaConf

from sim.config import CONFIG_DIR, ConfigError, register_configs
from sim.metrics import reference_table
from sim.model import BargainingModel
from sim.runner import config_hash, result_of, scenario_from_cfg, strategy_of, write_run

NOBODY = "nobody"  # play_as value: every seat is a model agent
PROTOCOLS = ("offers", "eu", "exchange")  # what the app offers, first = default
SEATED_PROTOCOLS = ("offers",)  # protocols in which a person can take a seat
DEFAULT_SCENARIO = "classroom/jan2022"
DEFAULT_ROUNDS = 20
_COMPOSE_LOCK = threading.Lock()  # Hydra's compose API keeps global state: one session at a time


def scenarios() -> list[str]:
    """Scenario names for the app: the classroom pack first, then the research scenarios written in YAML."""
    root = CONFIG_DIR / "scenario"
    classroom = sorted(f"classroom/{p.stem}" for p in (root / "classroom").glob("*.yaml"))
    classroom.remove(DEFAULT_SCENARIO)
    research = sorted(p.stem for p in root.glob("*.yaml") if p.stem != "from_csv")
    return [DEFAULT_SCENARIO, *classroom, *research]


@dataclass
class Tuning:
    """A session's slider settings: per scenario, dotted scenario keys -> values.

    Kept per scenario so that switching scenario and back does not lose (or misapply) the settings.
    """

    values: dict[str, dict[str, float]] = field(default_factory=dict)
    play_as: dict[str, str] = field(default_factory=dict)  # per scenario: the seat a person plays

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
    """The composed Hydra config for these overrides (as ``experiments.run`` would see it)."""
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir
    from omegaconf import open_dict

    register_configs()
    with _COMPOSE_LOCK, initialize_config_dir(version_base="1.3", config_dir=str(CONFIG_DIR)):
        cfg = hydra_compose(config_name="config", overrides=list(overrides_))
    if not any(o.startswith("rounds=") for o in overrides_):
        note = cfg.scenario.get("classroom") or {}
        with open_dict(cfg):
            cfg.rounds = int(note.get("rounds") or DEFAULT_ROUNDS)
    return cfg


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
                 seed: int | str = 1, rounds: int = 0, tuning: Tuning | None = None, rng: Any = None):
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
        params = OmegaConf.to_container(self.cfg.protocol, resolve=True)
        name, exponent = strategy_of(self.cfg)
        negotiation = scenario_from_cfg(self.cfg)
        super().__init__(negotiation, protocol=params["name"], protocol_params=params, strategy=name,
                         strategy_exponent=exponent, rounds=self.cfg.rounds, rng=seed if rng is None else rng)
        self.seed = seed
        self.issues = reference_table(negotiation, self.disagreement)  # reference solutions, once per model
        self.play_as = NOBODY
        self.draft: np.ndarray | None = None  # the seat's proposal being built in the app
        if play_as and play_as != NOBODY:
            self.take_seat(play_as)
        elif self.tuning.play_as.get(scenario, NOBODY) != NOBODY and self.protocol.name in SEATED_PROTOCOLS:
            self.take_seat(self.tuning.play_as[scenario])  # the session's seat survives Reset

    # ---- the human seat --------------------------------------------------------------------------------
    @property
    def seat(self) -> int | None:
        return getattr(self.protocol, "seat", None)

    def take_seat(self, actor: str) -> None:
        """A person plays ``actor`` from now on (the offers protocol only)."""
        if self.protocol.name not in SEATED_PROTOCOLS:
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

    def describe(self) -> dict[str, Any]:
        row = super().describe()
        row["play_as"] = self.play_as
        return row


def pending_offer(model: BargainingModel) -> np.ndarray | None:
    """The offer on the table: the one awaiting the seat's answer, else the last one made."""
    protocol = model.protocol
    pending = getattr(protocol, "pending", None)
    if pending is not None:
        return pending
    return getattr(protocol, "last_offer", None)


def offer_table(model: BargainingModel) -> pd.DataFrame:
    """The latest offer (offers protocol) with each party's response and utility; for eu/exchange,
    the current predicted outcome (weighted median) with each party's position and utility."""
    scenario = model.negotiation
    ids = list(scenario.actor_ids)
    protocol = model.protocol
    if model.protocol.name != "offers":
        bundle = model.predicted_median()
        rows = [{"party": a, "response": "", "utility": float(u)}
                for a, u in zip(ids, [actor.utility(bundle) for actor in model.actors])]
        return pd.DataFrame(rows).assign(round=model.round, proposer="(predicted outcome)")
    if getattr(protocol, "pending", None) is not None:
        bundle = protocol.pending
        proposer = ids[protocol.current_proposer]
        responses = {a: ("proposer" if a == proposer else "your answer?" if i == protocol.seat else "waiting")
                     for i, a in enumerate(ids)}
        round_number = model.round + 1
    elif getattr(protocol, "last_offer", None) is not None:
        events = model.events_table()
        last = events[events["kind"] == "offer"].iloc[-1]
        bundle = np.array([last[f"offer_{i}"] for i in scenario.issue_ids])
        proposer = last["proposer"]
        responses = {a: last[f"response_{a}"] for a in ids}
        round_number = int(last["round"])
    else:
        return pd.DataFrame(columns=["round", "proposer", "party", "response", "utility"])
    values = [float(actor.utility(bundle)) for actor in model.actors]
    return pd.DataFrame({"round": round_number, "proposer": proposer, "party": ids,
                         "response": [responses[a] for a in ids], "utility": values})


def bundle_table(model: BargainingModel, bundle: np.ndarray | None) -> pd.DataFrame:
    """Per issue: the bundle's value (and level label), the status quo and each party's ideal."""
    scenario = model.negotiation
    rows = []
    for k, issue in enumerate(scenario.issues):
        row = {"issue": issue.label or issue.id}
        if bundle is not None:
            value = float(bundle[k])
            row["offer"] = f"{value:g}" + (f" ({issue.level_label(value)})" if issue.discrete else "")
        row["status quo"] = f"{issue.status_quo:g}"
        for i, actor in enumerate(scenario.actors):
            row[actor.id] = f"{scenario.positions[i, k]:g}"
        rows.append(row)
    return pd.DataFrame(rows)


def utilities_by_round(model: BargainingModel) -> pd.DataFrame:
    """Each party's utility by round: of that round's offer (offers), or of the predicted outcome
    (eu, exchange: the weighted median of the positions then)."""
    scenario = model.negotiation
    ids = list(scenario.actor_ids)
    if model.protocol.name == "offers":
        events = model.events_table()
        if "kind" not in events or not (events["kind"] == "offer").any():
            return pd.DataFrame(columns=["round", *ids])
        offers = events[events["kind"] == "offer"]
        return pd.DataFrame({"round": offers["round"].to_numpy(),
                             **{a: offers[f"utility_{a}"].to_numpy() for a in ids}})
    frame = model.datacollector.get_model_vars_dataframe()
    if frame.empty:
        return pd.DataFrame(columns=["round", *ids])
    medians = np.stack(frame["median"].to_numpy())  # (R, K)
    values = np.stack([actor.utility(medians) for actor in model.actors], axis=1)  # (R, N)
    return pd.DataFrame({"round": np.arange(len(medians)), **{a: values[:, i] for i, a in enumerate(ids)}})


def seat_view(model: BargainingModel, bundle: np.ndarray) -> pd.DataFrame:
    """What the seated actor believes of a bundle it might propose: each party's utility, the least it
    is thought to accept this round, and so whether it would (the model's beliefs; with belief noise
    they differ from the truth). The seat's own row is its true utility and outside option."""
    protocol = model.protocol
    seat = protocol.seat
    view = protocol.believed_by(seat, bundle)
    ids = model.negotiation.actor_ids
    rows = []
    for i, actor in enumerate(ids):
        if i == seat:
            own = float(model.actors[i].utility(model.negotiation.snap(np.asarray(bundle, float)[None]))[0])
            rows.append({"party": f"{actor} (you)", "believed utility": own,
                         "accepts above": float(model.disagreement[i]), "verdict": "your proposal"})
            continue
        if not protocol.active[i]:
            verdict = "walked out"
        elif not view["needed"][i] and protocol.params.consent != "majority":
            verdict = "consent not needed"
        else:
            verdict = "likely accepts" if view["accepts"][i] else "likely rejects"
        rows.append({"party": actor, "believed utility": float(view["utility"][i]),
                     "accepts above": float(view["threshold"][i]), "verdict": verdict})
    return pd.DataFrame(rows)


# ---- export -----------------------------------------------------------------------------------------
def export(model: ClassroomModel, root: Path | str = "results/classroom", replicates: int = 30) -> Path:
    """Write the session's results folder and its debrief (``report.html``); returns the report path.

    The folder holds what ``experiments.run`` writes, the command line that re-runs the session with
    model agents in every seat (manifest.json ``command``) and, for a played seat, the comparison of
    the person's utility with the model agent's over ``replicates`` runs (see experiments.debrief).
    """
    from experiments.debrief import report

    stamp = time.strftime("%Y-%m-%d_%H-%M-%S")
    folder = Path(root) / stamp
    suffix = 1
    while folder.exists():
        folder = Path(root) / f"{stamp}_{suffix}"
        suffix += 1
    result = result_of(model, seed=model.seed, config_hash=config_hash(model.cfg), issues=model.issues)
    write_run(result, folder, model.cfg, figures=False, source="classroom app", play_as=model.play_as,
              command="python -m experiments.run " + " ".join(model.command))
    out = folder / "report.html"
    out.write_text(report(folder, replicates=replicates), encoding="utf-8")
    return out
