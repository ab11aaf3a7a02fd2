"""The classroom: a per-session model a teacher tunes and a student can play one seat of.

Everything the browser app (:mod:`apps.classroom`) shows or does goes through this package, which
does not import Solara, so that it is tested without a browser:

* :mod:`sim.classroom.model`: :class:`Tuning` (a session's slider settings as the dotted overrides the
  command line takes), :func:`overrides` (the app's choices as that command line, so an app run is an
  ordinary, re-runnable Hydra config) and :class:`ClassroomModel` (a
  :class:`~sim.engine.model.BargainingModel` built from that config, with an optional human seat,
  ``play_as``; offers protocol).
* :mod:`sim.classroom.tables`: what the page shows, in words (:func:`whose_turn`, :func:`what_happened`)
  and tables (:func:`offer_table`, :func:`bundle_table`, :func:`utilities_by_round`, :func:`seat_view`).
* :mod:`sim.classroom.exports`: :func:`export` writes the session as a results folder (runs/events/issues
  Parquet, config.yaml, manifest.json with the command line) and its debrief report (``report.html``),
  in the class's folder (:func:`class_folder`).
* :mod:`sim.classroom.session` (one browser tab's game and controls) and :mod:`sim.classroom.charts`
  (the charts, as PNG) build on these.

The names below are re-exported here: ``from sim.classroom import ClassroomModel`` works as before.
"""

from __future__ import annotations

from sim.classroom.exports import class_folder, export
from sim.classroom.model import (DEFAULT_ROUNDS, DEFAULT_SCENARIO, NOBODY, PROTOCOL_TITLES, PROTOCOLS,
                                 SEATED_PROTOCOLS, ClassroomModel, Tuning, compose, overrides, scenario_titles,
                                 scenarios, title_of)
from sim.classroom.tables import (actor_name, bundle_table, last_offer, offer_bundle, offer_table, pending_bundle,
                                  seat_view, utilities_by_round, value_text, wants_table, what_happened,
                                  whose_turn)

__all__ = ["DEFAULT_ROUNDS", "DEFAULT_SCENARIO", "NOBODY", "PROTOCOL_TITLES", "PROTOCOLS", "SEATED_PROTOCOLS", "ClassroomModel",
           "Tuning", "actor_name", "bundle_table", "class_folder", "compose", "export", "last_offer",
           "offer_bundle", "offer_table", "overrides", "pending_bundle", "scenario_titles", "scenarios", "seat_view", "title_of",
           "utilities_by_round", "value_text", "wants_table", "what_happened", "whose_turn"]
