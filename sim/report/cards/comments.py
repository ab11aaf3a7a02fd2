"""Which trailing comments of a scenario YAML (:mod:`sim.domain.yaml_comments`) a card shows."""

from __future__ import annotations

from typing import Any

from sim.domain.scenario import Scenario


def drop_overridden(comments: dict[str, str], raw: Any, scenario: Scenario) -> dict[str, str]:
    """Comments whose number was changed by a command-line override no longer give its basis."""
    actors = (raw or {}).get("actors") or {} if isinstance(raw, dict) else {}
    kept = dict(comments)
    for actor in scenario.actors:
        given = actors.get(actor.id) or {}
        for what in ("position", "salience"):
            values = given.get(what) or {}
            for iid, value in getattr(actor, what).items():
                try:
                    same = float(values.get(iid)) == value
                except (TypeError, ValueError):
                    same = False
                if not same:
                    kept.pop(f"actors.{actor.id}.{what}.{iid}", None)
        try:
            same = float(given.get("capability")) == actor.capability
        except (TypeError, ValueError):
            same = False
        if not same:
            kept.pop(f"actors.{actor.id}.capability", None)
    return kept

