"""Readable names in figures: actor names, issue labels, level names, swept parameters and outputs in
words (:class:`Labels`), never a raw column name."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np

#: Top-level config keys a sweep may vary, in words.
PARAMETER_LABELS = {
    "protocol": "protocol", "scenario": "scenario", "strategy": "concession strategy",
    "rounds": "round limit", "perturbation": "perturbation σ (noise on every number)",
    "protocol.order": "proposer order", "protocol.belief_noise": "belief noise (σ)",
    "protocol.consent": "consent rule", "protocol.quota": "majority quota",
    "protocol.variant": "expected-utility variant", "protocol.q": "Q (target stays put)",
    "protocol.t": "T (moves toward the median)", "protocol.shock_probability": "salience shock probability",
    "protocol.walkout": "walk-outs allowed", "protocol.deadline": "deadline (rounds)",
    "strategy.exponent": "concession exponent e", "strategy.name": "concession strategy",
}
#: Actor fields (scenario.actors.<id>.<field>) in words.
ACTOR_FIELD_LABELS = {
    "capability": "capability", "risk_exponent": "risk exponent ρ", "discount_factor": "discount factor δ",
    "concession_exponent": "concession exponent e", "strategy": "strategy",
    "outside_option.optimism": "war optimism (× win probability)",
    "outside_option.cost": "cost of war (utility)", "outside_option.value": "reservation utility",
    "outside_option.kind": "outside option",
    "package.max": "package threshold (weighted mean ≤, scale points)",
    "package.min": "package threshold (weighted mean ≥, scale points)",
}
#: Outcome columns (MODEL.md §6) in words; outcome_/utility_/disagreement_ columns are built below.
OUTPUT_LABELS = {
    "agreement": "agreement", "rounds": "rounds used", "breakdown_cause": "breakdown cause",
    "nash_product": "Nash product", "distance_to_nash": "distance to the Nash solution",
    "pareto_efficient": "Pareto-efficient", "distance_to_pareto": "distance to the Pareto frontier",
    "bargaining_range": "bargaining range (share of bundles all prefer to no deal)",
    "bargaining_range_empty": "bargaining range empty",
}
#: Outputs that are yes/no: drawn as proportions with binomial intervals.
BOOLEAN_OUTPUTS = ("agreement", "pareto_efficient", "bargaining_range_empty")


def _short(label: str) -> str:
    """An issue label without its parenthesis, for axes ("NATO enlargement (Ukraine, ...)")."""
    return label.split(" (")[0].strip() or label


@dataclass(frozen=True)
class Labels:
    """Readable names: actor id → name, issue id → label, issue id → {point: level name}."""

    actors: Mapping[str, str] = field(default_factory=dict)
    issues: Mapping[str, str] = field(default_factory=dict)
    levels: Mapping[str, Mapping[float, str]] = field(default_factory=dict)
    scenarios: Mapping[str, str] = field(default_factory=dict)  # scenario id -> name (sweeps over scenarios)
    scales: Mapping[str, tuple[float, float, str]] = field(default_factory=dict)  # issue id -> (lower, upper, unit)

    @classmethod
    def from_scenario(cls, scenario: Any) -> "Labels":
        """From a :class:`sim.domain.scenario.Scenario`."""
        return cls(actors={a.id: a.name or a.id for a in scenario.actors},
                   issues={i.id: i.label for i in scenario.issues},
                   levels={i.id: {p: name.replace("_", " ") for name, p in i.levels} for i in scenario.issues
                           if i.levels},
                   scales={i.id: (float(i.lower), float(i.upper), i.unit or "") for i in scenario.issues})

    @classmethod
    def from_config(cls, scenario: Mapping[str, Any] | None) -> "Labels":
        """From a resolved ``scenario`` config node (plain dict), e.g. a sweep's config.yaml."""
        scenario = scenario or {}
        issues = scenario.get("issues") or {}
        return cls(actors={k: (v or {}).get("name") or k for k, v in (scenario.get("actors") or {}).items()},
                   issues={k: (v or {}).get("label") or k for k, v in issues.items()},
                   levels={k: {float(p): n.replace("_", " ") for n, p in (v.get("levels") or {}).items()}
                           for k, v in issues.items() if (v or {}).get("levels")},
                   scales={k: _scale(v or {}) for k, v in issues.items()})

    def actor(self, actor_id: str) -> str:
        return self.actors.get(actor_id, str(actor_id).replace("_", " "))

    def issue(self, issue_id: str, short: bool = True) -> str:
        label = self.issues.get(issue_id, issue_id.replace("_", " "))
        return _short(label) if short else label

    def scale(self, issue_id: str) -> tuple[float, float, str]:
        """An issue's scale (lower, upper, unit); 0-100 without a unit when not known."""
        return self.scales.get(issue_id, (0.0, 100.0, ""))

    def issue_of(self, column: str) -> str | None:
        """The issue an output column is on (``outcome_<issue>``, ``bundle_<issue>``), else None."""
        for prefix in ("outcome_", "bundle_"):
            if column.startswith(prefix):
                return column[len(prefix):]
        return None

    def position_label(self, issue_id: str, what: str = "position") -> str:
        """An axis name for values on an issue's scale: "position (kg)", or with its range when it has no unit."""
        lower, upper, unit = self.scale(issue_id)
        return f"{what} ({unit})" if unit else f"{what} ({lower:g}-{upper:g} scale)"

    def phrase(self, column: str) -> str:
        """An output as the object of a title ("Sobol indices of ..."): "the outcome on NATO enlargement",
        "the bundle on the table on NATO enlargement", "the utility of Russia", "agreement"."""
        for prefix, words in (("outcome_", "the outcome on {}"), ("bundle_", "the bundle on the table on {}"),
                              ("utility_", "the utility of {}"), ("disagreement_", "the no-deal utility of {}")):
            if column.startswith(prefix):
                rest = column[len(prefix):]
                return words.format(self.issue(rest) if prefix in ("outcome_", "bundle_") else self.actor(rest))
        return self.output(column)

    def parameter(self, key: str) -> str:
        """A swept config key (``scenario.actors.russia.outside_option.optimism``) in words
        ("Russia: war optimism (× win probability)")."""
        if key in PARAMETER_LABELS:
            return PARAMETER_LABELS[key]
        parts = key.split(".")
        if parts[:2] == ["scenario", "actors"] and len(parts) >= 4:
            who, rest = self.actor(parts[2]), parts[3:]
            if rest[0] in ("salience", "position") and len(rest) == 2:
                return f"{who}: {rest[0]} on {self.issue(rest[1])}"
            if rest[0] == "credibility" and len(rest) == 2:
                return f"{who}: belief in promises on {self.issue(rest[1])} (κ, probability)"
            return f"{who}: {ACTOR_FIELD_LABELS.get('.'.join(rest), ' '.join(rest).replace('_', ' '))}"
        if parts[:2] == ["scenario", "issues"] and len(parts) >= 4:
            return f"{self.issue(parts[2])}: {' '.join(parts[3:]).replace('_', ' ')}"
        return " ".join(parts[-2:] if parts[0] in ("scenario", "protocol") else parts).replace("_", " ")

    def output(self, column: str) -> str:
        """An outcome column (``outcome_enlargement``, ``utility_russia``, ``agreement``) in words."""
        if column in OUTPUT_LABELS:
            return OUTPUT_LABELS[column]
        for prefix, words in (("outcome_", "outcome: {}"), ("bundle_", "on the table: {}"),
                              ("utility_", "utility of {}"), ("disagreement_", "no-deal utility of {}")):
            if column.startswith(prefix):
                rest = column[len(prefix):]
                return words.format(self.issue(rest) if prefix in ("outcome_", "bundle_") else self.actor(rest))
        return column.replace("_", " ")

    def value(self, value: Any) -> str:
        """A parameter value on an axis: numbers to 3 significant digits, scenario ids by name."""
        if isinstance(value, (bool, np.bool_)):
            return "yes" if value else "no"
        if isinstance(value, (int, float, np.integer, np.floating)):
            return f"{value:.3g}"
        return self.scenarios.get(str(value), str(value))


def _scale(issue: Mapping[str, Any]) -> tuple[float, float, str]:
    """(lower, upper, unit) of a scenario config's issue node (``scale: [lower, upper]``; 0-100 by default)."""
    scale = issue.get("scale") or (0.0, 100.0)
    try:
        lower, upper = float(scale[0]), float(scale[1])
    except (TypeError, ValueError, IndexError):
        lower, upper = 0.0, 100.0
    return lower, upper, str(issue.get("unit") or "")


PLAIN = Labels()
