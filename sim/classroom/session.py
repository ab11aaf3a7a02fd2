"""One browser tab's game: the settings chosen in the sidebar, the game being played and what the
controls do to it. No Solara here: the app (:mod:`apps.classroom`) draws a :class:`Session` and
calls its methods, and the tests drive the same methods without a browser.

The rules the controls follow (the lesson plan relies on them):

* Scenario, protocol, seed and round limit, and the actor sliders ("Tune the actors"), are *chosen*
  in the sidebar and apply when Reset is pressed; until then :meth:`Session.pending` lists them and
  the page says "press Reset to start this game".
* The seat (Play as) applies at once: before the first round it takes the seat in the current game;
  later it starts a new game with the current game's settings, since a seat cannot change hands
  in the middle of a game (the export compares one person with the model agent in one seat).
* Step while the game waits for the person does nothing but say what is awaited; Play stops there.
* A finished game is restarted by Reset.
* Every action catches its own errors: :attr:`Session.error` holds one line for the page.
"""

from __future__ import annotations

import secrets
import threading
import queue
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable

import numpy as np

from sim.classroom import charts
from sim.classroom.exports import class_folder, export
from sim.classroom.model import (DEFAULT_SCENARIO, NOBODY, PROTOCOLS, SEATED_PROTOCOLS, ClassroomModel, Tuning,
                                 title_of)
from sim.classroom.tables import actor_name, what_happened, whose_turn
from sim.domain.config import check_level
from sim.domain.errors import ConfigError


@dataclass(frozen=True)
class Settings:
    """What the sidebar sets: a game is built from these (and the session's :class:`Tuning`)."""

    scenario: str = DEFAULT_SCENARIO
    protocol: str = PROTOCOLS[0]
    seed: str = "1"
    rounds: int = 0  # 0 = the scenario's own round limit
    play_as: str = NOBODY


def _quoted(key: str, value: Any) -> str:
    """A pending setting in words: a scenario or protocol by its title, in quotes."""
    return f"\"{title_of(key, value)}\"" if key in ("scenario", "protocol") else str(value)


LABELS = {"scenario": "scenario", "protocol": "protocol", "seed": "seed", "rounds": "round limit"}
_WARM: "queue.Queue[tuple]" = queue.Queue()  # settings whose model agents' runs to compute in the background
_WARMER: list[threading.Thread] = []
_WARMER_LOCK = threading.Lock()


def _warm_forever() -> None:
    from sim.report.debrief.replicates import replicate_runs

    while True:
        config, seed, replicates = _WARM.get()
        try:
            replicate_runs(config, seed, replicates)
        except Exception:  # noqa: BLE001 - a setting that fails here fails again, with its message, at Export
            pass


def warm_replicates(model: ClassroomModel, replicates: int) -> bool:
    """Queue, for one background thread (a daemon: it never holds the server up at exit), the model
    agents' runs an Export of this game compares the seat with. They depend only on the game's config
    and seed, not on the person's moves, and are computed once per setting
    (:func:`sim.report.debrief.replicates.replicate_runs`): the Export then finds them ready. Returns
    whether anything was queued (nothing without a seat or replicates)."""
    if model.play_as == NOBODY or replicates <= 0:
        return False
    from omegaconf import OmegaConf

    with _WARMER_LOCK:
        if not _WARMER:
            _WARMER.append(threading.Thread(target=_warm_forever, name="replicates", daemon=True))
            _WARMER[0].start()
    _WARM.put((OmegaConf.to_container(model.cfg, resolve=True), int(model.seed), int(replicates)))
    return True


class Session:
    """A tab's game and settings. ``class_name`` and ``root`` say where exports go
    (``<root>/<class_name>/``); ``replicates`` is the number of model-agent runs an export compares
    a played seat with."""

    def __init__(self, class_name: str = "", root: Path | str = "results/classroom", replicates: int = 30,
                 level: str = "university"):
        self.lock = threading.RLock()  # the Play thread and the buttons both change the game
        self.tuning = Tuning()
        self.class_name = class_name
        self.root = Path(root)
        self.replicates = replicates
        self.level = check_level(level, "classroom")  # reading level of the page's text: school | university
        self.chosen = Settings()
        self.applied = Settings()
        self.games = 0  # games built in this tab: a game's number tells its exports apart from another's
        self.model = self._build(self.applied)
        self.applied_tuning: list[str] = []
        self.message = ""  # what the last action did (or why it did nothing)
        self.error = ""  # one line when an action failed
        self.exported: Path | None = None
        self.id = secrets.token_hex(3)  # in every export's folder name: two tabs never write one folder
        self.exporting = False  # an export is being written (the app greys the button)
        self._exported_state: tuple | None = None  # the game state self.exported holds
        self._charts: dict[str, tuple[tuple, bytes | None]] = {}  # name -> (state of the game, PNG)

    # ---- building ---------------------------------------------------------------------------------------
    def _build(self, settings: Settings) -> ClassroomModel:
        self.games += 1
        model = ClassroomModel(scenario=settings.scenario, protocol=settings.protocol, play_as=settings.play_as,
                               seed=settings.seed, rounds=settings.rounds, tuning=self.tuning)
        warm_replicates(model, self.replicates)
        return model

    def _guard(self, action: Callable[[], Any]) -> Any:
        with self.lock:
            self.error = ""
            try:
                return action()
            except ConfigError as error:
                self.error = str(error)
            except Exception as error:  # noqa: BLE001 - the page shows it in one line, never a traceback
                self.error = f"{type(error).__name__}: {error}"
            return None

    # ---- what the page shows ------------------------------------------------------------------------
    def pending(self) -> list[str]:
        """Chosen settings that the current game does not have yet (they apply on Reset)."""
        changes = [f"{LABELS[key]} {_quoted(key, getattr(self.chosen, key))}" for key in LABELS
                   if str(getattr(self.chosen, key)) != str(getattr(self.applied, key))]
        if self.tuning.overrides(self.chosen.scenario) != self.applied_tuning and \
                self.chosen.scenario == self.applied.scenario:
            changes.append("actor settings (Tune the actors)")
        return changes

    def status(self) -> str:
        """Whose turn it is / the game's end, in one sentence."""
        return whose_turn(self.model, self.level)

    def last_round(self) -> str:
        return what_happened(self.model)

    def chart(self, name: str, scale: float = 1.0) -> bytes | None:
        """The chart ``name`` (``utility``, ``issues`` or ``all``: :mod:`sim.classroom.charts`) of the game
        as it stands, as PNG (None before there is anything to draw). Drawn once per state of the game:
        moving a slider or switching tabs redraws the page, not the charts; a new state draws only the
        data over the chart's static parts (kept, and shared by games alike: :class:`charts.Canvas`)."""
        draw = {"utility": charts.utility_chart, "issues": charts.issues_chart, "all": charts.all_issues_chart}[name]
        with self.lock:
            model = self.model
            state = (id(model), model.round, len(model.events_table()), model.waiting, model.running, scale)
            kept = self._charts.get(name)
            if kept is None or kept[0] != state:
                kept = self._charts[name] = (state, draw(model, scale=scale))
            return kept[1]

    def seat_choices(self) -> dict[str, str]:
        """Play-as choices: shown text -> actor id (``nobody`` first)."""
        choices = {"nobody (watch the model agents)": NOBODY}
        for actor in self.model.negotiation.actors:
            choices[actor.name or actor.id] = actor.id
        return choices

    # ---- controls -------------------------------------------------------------------------------------
    def choose(self, key: str, value: Any) -> None:
        """A sidebar choice. ``play_as`` and ``level`` apply now; the others wait for Reset."""
        if key == "play_as":
            self._guard(lambda: self._seat(value))
            return
        if key == "level":
            self._guard(lambda: setattr(self, "level", check_level(value, "classroom")))
            return
        if key not in LABELS:
            self.error = f"unknown setting {key!r}"
            return
        with self.lock:
            self.chosen = replace(self.chosen, **{key: int(value) if key == "rounds" else str(value)})
            self.message = ""

    def _seat(self, actor: str) -> None:
        if actor == self.applied.play_as:
            self.chosen = replace(self.chosen, play_as=actor)
            return
        if actor != NOBODY and self.model.protocol.name not in SEATED_PROTOCOLS:
            raise ConfigError("classroom", "play_as", f"a person can play a seat under protocol "
                                                      f"{', '.join(SEATED_PROTOCOLS)} only; this game runs "
                                                      f"{self.model.protocol.name}: choose offers and press Reset")
        was_started, old = self.model.started, self.applied.play_as
        settings = replace(self.applied, play_as=actor)
        self.model = self._build(settings)
        self.applied, self.chosen = settings, replace(self.chosen, play_as=actor)
        self.exported = None
        who = "the model agents only" if actor == NOBODY else f"you play {actor_name(self.model, actor)}"
        if was_started:
            left = "watching" if old == NOBODY else f"as {actor_name(self.model, old)}"
            self.message = (f"New game: {who}. A seat changes only at the start of a game; the game "
                            f"{left} was left unfinished.")
        else:
            self.message = f"Now {who}."

    def reset(self) -> None:
        """Start a new game with the chosen settings and the actor sliders."""
        def act() -> None:
            settings = self.chosen
            note = ""
            if settings.play_as != NOBODY and settings.protocol not in SEATED_PROTOCOLS:
                settings = replace(settings, play_as=NOBODY)
                note = (f" Play as needs the offers protocol: under {settings.protocol} the model agents "
                        "play every seat.")
            self.model = self._build(settings)
            self.applied = self.chosen = settings
            self.applied_tuning = self.tuning.overrides(settings.scenario)
            self.exported = None
            self.message = "New game started." + note
        self._guard(act)

    def step(self) -> bool:
        """One round (Step). Returns whether the game moved."""
        def act() -> bool:
            model = self.model
            if model.finished:
                self.message = "The game is over. Press Reset to start a new one."
                return False
            if model.waiting:
                self.message = ("Waiting for you: " + ("Accept or Reject the offer on the table."
                                if model.waiting == "respond" else "set the sliders and press Propose."))
                return False
            model.step()
            self.message = what_happened(model) if not model.waiting else ""
            return True
        return bool(self._guard(act))

    def play_tick(self) -> bool:
        """One round of ▶ Play. Returns whether Play should go on (False at the person's turn or the end)."""
        with self.lock:
            if self.model is None or self.model.finished or self.model.waiting:  # None: the tab closed
                return False
            moved = self.step()
            return moved and self.model.running and not self.model.waiting

    def respond(self, accept: bool) -> None:
        def act() -> None:
            self.model.respond(accept)
            self.message = what_happened(self.model)
        self._guard(act)

    def set_draft(self, issue: int, value: float) -> None:
        with self.lock:
            model = self.model
            draft = np.array(self.draft(), dtype=float)
            draft[issue] = float(value)
            model.draft = model.negotiation.snap(draft[None])[0]

    def draft(self) -> np.ndarray:
        """The proposal being built (starts at the seat's own ideal)."""
        model = self.model
        if model.draft is None:
            model.draft = model.negotiation.snap(model.negotiation.positions[model.seat][None])[0]
        return model.draft

    def propose(self) -> None:
        def act() -> None:
            self.model.propose(np.array(self.draft(), dtype=float))
            self.message = what_happened(self.model)
        self._guard(act)

    def game_state(self) -> tuple:
        """What identifies the game as it stands: the same state exported twice is one export."""
        model = self.model
        return (self.games, model.round, len(model.events), model.waiting, model.running, model.finished)

    def export(self) -> Path | None:
        """Write the game's results folder and report into the class folder. A second Export of the same
        game state at the same reading level (a double click) writes nothing and returns the first one's
        report; at another level it writes the game again with a report in that level's words (the class
        debrief counts the two as one game: :func:`sim.analysis.pooling.fingerprint`)."""
        def act() -> Path:
            state = (self.game_state(), self.level)
            if self.exported is not None and state == self._exported_state and self.exported.exists():
                self.message = f"This game, as it stands, is already written to {self.exported}."
                return self.exported
            self.exporting = True
            try:
                folder = class_folder(self.class_name, self.root)
                self.exported = export(self.model, folder, replicates=self.replicates, session=self.id,
                                       level=self.level)
                self._exported_state = state
            finally:
                self.exporting = False
            what = "finished game" if self.model.finished else f"game in progress at round {self.model.round + 1}"
            self.message = f"Report of the {what} written to {self.exported}."
            return self.exported
        return self._guard(act)

    def close(self) -> None:
        """The tab closed: let go of the game (its model, drawn charts) so that its memory is freed."""
        with self.lock:
            self._charts = {}
            self.model = None  # type: ignore[assignment]
