"""The classroom: a per-session model a teacher tunes and a student can play one seat of.

Everything the browser app (:mod:`apps.classroom`) shows or does goes through this module, which
does not import Solara, so that it is tested without a browser:

* :class:`Tuning` holds a session's slider settings as the same dotted overrides the command line
  takes (``scenario.actors.russia.capability=0.8``); :func:`overrides` turns the app's choices into
  that command line, so an app run is an ordinary, re-runnable Hydra config.
* :class:`ClassroomModel` is a :class:`~sim.engine.model.BargainingModel` built from that composed config,
  with an optional human seat (``play_as``; offers protocol).
* :func:`offer_table`, :func:`utilities_by_round`, :func:`seat_view` are the tables the app draws.
* :func:`export` writes the session as a results folder (runs/events/issues Parquet, config.yaml,
  manifest.json with the command line) and its debrief report (``report.html``).
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from omegaconf import OmegaConf

from sim.domain.config import CONFIG_DIR, register_configs
from sim.domain.errors import ConfigError
from sim.engine.metrics import reference_table
from sim.engine.model import BargainingModel
from sim.engine.protocols import PROTOCOLS as REGISTRY
from sim.runs.result import result_of
from sim.runs.results import write_parquet
from sim.report.run_report import write_run
from sim.report.wording import cause_in_words
from sim.runs.spec import specs_from_config

NOBODY = "nobody"  # play_as value: every seat is a model agent
PROTOCOLS = ("offers", "eu", "exchange")  # what the app offers, first = default
SEATED_PROTOCOLS = tuple(name for name in PROTOCOLS if REGISTRY[name].seats)  # a person can take a seat
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


# ---- plain words --------------------------------------------------------------------------------------
def actor_name(model: BargainingModel, actor_id: str) -> str:
    """The scenario's name of an actor ("United States" for ``usa``); the id if it has none."""
    if actor_id in model.negotiation.actor_ids:
        return model.negotiation.actor(actor_id).name or actor_id
    return actor_id


def pending_bundle(model: BargainingModel) -> np.ndarray | None:
    """The offer waiting for the seat's answer (None when nothing waits)."""
    return model.protocol.pending_offer()


def last_offer(model: BargainingModel) -> dict[str, Any] | None:
    """The last offer made and answered (from the event log): round, proposer, bundle, responses."""
    events = model.events_table()
    if "kind" not in events or not (events["kind"] == "offer").any():
        return None
    row = events[events["kind"] == "offer"].iloc[-1]
    scenario = model.negotiation
    return {"round": int(row["round"]), "proposer": str(row["proposer"]), "agreement": bool(row["agreement"]),
            "bundle": np.array([row[f"offer_{i}"] for i in scenario.issue_ids], dtype=float),
            "responses": {a: str(row[f"response_{a}"]) for a in scenario.actor_ids}}


_ANSWER = {"accept": "accepted", "reject": "rejected", "not_needed": "was not asked",
           "walked_out": "has walked out", "proposer": "proposed"}


def what_happened(model: BargainingModel) -> str:
    """One sentence on the last round played ("" before the first)."""
    last = last_offer(model)
    if last is None:
        if not model.protocol.makes_offers and model.round > 0:
            return f"Round {model.round}: every party moved its positions (see the charts)."
        return ""
    me = model.play_as if isinstance(model, ClassroomModel) else NOBODY
    parts = []
    for actor, answer in last["responses"].items():
        if answer == "proposer":
            continue
        who = "you" if actor == me else actor_name(model, actor)
        parts.append(f"{who} {_ANSWER.get(answer, answer)}")
    proposer = "you" if last["proposer"] == me else actor_name(model, last["proposer"])
    verb = "proposed" if proposer != "you" else "proposed"
    text = f"Round {last['round']}: {proposer} {verb} a deal; " + ", ".join(parts) + "."
    if last["agreement"]:
        text += " Agreement."
    return text


def whose_turn(model: ClassroomModel) -> str:
    """One sentence: what the game waits for now."""
    if not model.running:
        result = model.outcome()
        names = {a.id: a.name for a in model.negotiation.actors}
        if result.agreement:
            return f"The game is over after round {model.round}: agreement. Press Reset to play again."
        return (f"The game is over after round {model.round}: no agreement — "
                f"{cause_in_words(result.breakdown_cause, names)}. Press Reset to play again.")
    round_text = f"Round {model.round + 1} of {model.max_rounds}."
    if model.waiting == "respond":
        proposer = actor_name(model, model.negotiation.actor_ids[model.protocol.next_proposer()])
        return f"{round_text} Your answer: {proposer} has made an offer — Accept or Reject it."
    if model.waiting == "propose":
        return f"{round_text} Your turn to propose: set the sliders and press Propose."
    if model.protocol.makes_offers:
        proposer = model.protocol.next_proposer()
        if proposer is not None:
            who = model.negotiation.actor_ids[proposer]
            name = "you" if who == model.play_as else actor_name(model, who)
            return f"{round_text} Next to propose: {name}. Press Step (or ▶ Play)."
        return f"{round_text} The next proposer is drawn at random. Press Step (or ▶ Play)."
    return f"{round_text} Press Step (or ▶ Play): every party adjusts its positions."


def offer_table(model: BargainingModel) -> pd.DataFrame:
    """The offer on the table: the one awaiting the seat's answer, else the last one made, with each
    party's answer and its utility (0 = worst possible, 1 = all it wants); for eu/exchange, the current
    predicted outcome (weighted median of the positions) with each party's utility.

    Columns: round, proposer (actor id), party (actor id), name (shown), answer, utility."""
    scenario = model.negotiation
    ids = list(scenario.actor_ids)
    me = getattr(model, "play_as", NOBODY)
    names = [actor_name(model, a) + (" (you)" if a == me else "") for a in ids]
    if not model.protocol.makes_offers:
        bundle = model.predicted_median()
        values = [float(actor.utility(bundle)) for actor in model.actors]
        return pd.DataFrame({"round": model.round, "proposer": "", "party": ids, "name": names,
                             "answer": "", "utility": values})
    pending = pending_bundle(model)
    if pending is not None:
        bundle = pending
        proposer = ids[model.protocol.next_proposer()]
        answers = {a: ("proposed" if a == proposer else "your answer?" if a == me else "waiting") for a in ids}
        round_number = model.round + 1
    else:
        last = last_offer(model)
        if last is None:
            return pd.DataFrame(columns=["round", "proposer", "party", "name", "answer", "utility"])
        bundle, proposer, round_number = last["bundle"], last["proposer"], last["round"]
        answers = {a: _ANSWER.get(r, r) for a, r in last["responses"].items()}
    values = [float(actor.utility(bundle)) for actor in model.actors]
    return pd.DataFrame({"round": round_number, "proposer": proposer, "party": ids, "name": names,
                         "answer": [answers[a] for a in ids], "utility": values})


def offer_bundle(model: BargainingModel) -> np.ndarray | None:
    """The bundle :func:`offer_table` describes (None before the first offer)."""
    if not model.protocol.makes_offers:
        return model.predicted_median()
    pending = pending_bundle(model)
    if pending is not None:
        return pending
    last = last_offer(model)
    return None if last is None else last["bundle"]


def value_text(issue, value: float) -> str:
    """``75 (open door)`` for a discrete issue, ``40.3`` otherwise (to one decimal)."""
    text = f"{round(float(value), 1):g}"
    if issue.discrete:
        text += f" ({issue.level_label(value).replace('_', ' ')})"
    return text


def wants_table(model: BargainingModel) -> pd.DataFrame:
    """Per issue: what each party wants (its position), by the parties' names."""
    scenario = model.negotiation
    return pd.DataFrame([{"issue": issue.label or issue.id,
                          **{actor_name(model, a): value_text(issue, scenario.positions[i, k])
                             for i, a in enumerate(scenario.actor_ids)}} for k, issue in enumerate(scenario.issues)])


def bundle_table(model: BargainingModel, bundle: np.ndarray | None) -> pd.DataFrame:
    """Per issue (the scenario's labels): the bundle's value, the status quo (no deal) and what the
    seat wants (with nobody seated and nothing on the table yet, what each party wants)."""
    scenario = model.negotiation
    me = getattr(model, "play_as", NOBODY)
    wanting = [me] if me != NOBODY else ([] if bundle is not None else list(scenario.actor_ids))
    rows = []
    for k, issue in enumerate(scenario.issues):
        row = {"issue": issue.label or issue.id}
        if bundle is not None:
            row["on the table"] = value_text(issue, bundle[k])
        row["no deal"] = value_text(issue, issue.status_quo)
        for actor in wanting:
            i = scenario.actor_ids.index(actor)
            column = "you want" if actor == me else f"{actor_name(model, actor)} wants"
            row[column] = value_text(issue, scenario.positions[i, k])
        rows.append(row)
    return pd.DataFrame(rows)


def utilities_by_round(model: BargainingModel) -> pd.DataFrame:
    """Each party's utility by round: of that round's offer (offers), or of the predicted outcome
    (eu, exchange: the weighted median of the positions then)."""
    scenario = model.negotiation
    ids = list(scenario.actor_ids)
    if model.protocol.makes_offers:
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


def seat_view(model: ClassroomModel, bundle: np.ndarray) -> pd.DataFrame:
    """What the seated actor believes of a bundle it might propose: each party's utility, the least it
    is thought to accept this round, and so whether it would (the model's beliefs; with belief noise
    they differ from the truth). The seat's own row is its true utility and outside option."""
    protocol = model.protocol
    seat = model.seat
    view = protocol.believed_by(seat, bundle)
    ids = model.negotiation.actor_ids
    consent_needed = getattr(protocol.params, "consent", "unanimity") != "majority"
    rows = []
    for i, actor in enumerate(ids):
        if i == seat:
            own = float(model.actors[i].utility(model.negotiation.snap(np.asarray(bundle, float)[None]))[0])
            rows.append({"party": f"{actor_name(model, actor)} (you)", "gets": own,
                         "accepts above": float(model.disagreement[i]), "verdict": "your proposal"})
            continue
        verdict = "likely accepts" if view["accepts"][i] else "likely rejects"
        if consent_needed and not view["needed"][i]:
            verdict = "consent not needed"
        rows.append({"party": actor_name(model, actor), "gets": float(view["utility"][i]),
                     "accepts above": float(view["threshold"][i]), "verdict": verdict})
    return pd.DataFrame(rows)


# ---- export -----------------------------------------------------------------------------------------
def class_folder(class_name: str = "", root: Path | str = "results/classroom") -> Path:
    """Where a class's exports go: ``<root>/<class>`` (``make classroom CLASS=monday-3rd``), or
    ``<root>`` without a class. A class name is one folder name: letters, digits, ``-``, ``_``, ``.``."""
    name = (class_name or "").strip()
    if not name:
        return Path(root)
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", name):
        raise ConfigError("CLASS", "class", f"{name!r} is not a folder name (letters, digits, '-', '_', '.')")
    return Path(root) / name


def export(model: ClassroomModel, root: Path | str = "results/classroom", replicates: int = 30) -> Path:
    """Write the session's results folder and its debrief (``report.html``); returns the report path.

    The folder (``<root>/<timestamp>_<seat>``) holds what ``experiments.run`` writes, the command line
    that re-runs the session with model agents in every seat (manifest.json ``command``) and, for a
    played seat of a finished game, the model agent's results in that seat over ``replicates`` runs
    (``replicates.parquet``, see :func:`sim.report.debrief.model_replicates`). A game still running is
    written as it stands and marked ``in progress`` (``game`` in manifest.json and runs.parquet); it
    is not compared with the model agent.
    """
    from sim.report.debrief import model_replicates, report

    stamp = time.strftime("%Y-%m-%d_%H-%M-%S")
    name = f"{stamp}_{model.play_as}"
    folder = Path(root) / name
    suffix = 1
    while folder.exists():
        folder = Path(root) / f"{name}_{suffix}"
        suffix += 1
    result = result_of(model.spec, model, issues=model.issues)
    game = "finished" if model.finished else "in progress"
    result.runs["game"] = game
    if not model.finished:  # the outcome of an unfinished game is not an outcome
        result.runs["agreement"] = False
        result.runs["breakdown_cause"] = f"in progress at round {model.round + 1}"
    write_run(result, folder, model.cfg, figures=False, source="classroom app", play_as=model.play_as,
              game=game, command="python -m experiments.run " + " ".join(model.command))
    if model.finished and model.play_as != NOBODY and replicates > 0:
        write_parquet(model_replicates(folder, result.runs, replicates), folder / "replicates.parquet")
    out = folder / "report.html"
    out.write_text(report(folder, replicates=replicates), encoding="utf-8")
    return out
