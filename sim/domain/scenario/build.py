"""Building and validating a :class:`~sim.domain.scenario.data.Scenario`: from a Hydra config node
(YAML) with :func:`scenario_from_config`, from plain data with :func:`build_scenario`, from the BDM/DEU
long CSV format with :func:`scenario_from_csv` (:mod:`sim.domain.csv_import` reads the file) or from
arrays with :func:`scenario_from_arrays`. Every mistake raises :class:`~sim.domain.errors.ConfigError`
naming the file and key.

The keys a scenario, issue, actor, ... may have are the fields of the structured-config schema
(:mod:`sim.domain.config`): one list, which Hydra and these checks both read.
"""

from __future__ import annotations

import math
from dataclasses import fields
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from sim.domain.checks import check_exponent, check_range, check_strategy, number, scale_bounds
from sim.domain.config import (CONFIG_DIR, REPO_ROOT, ActorConfig, IssueConfig, OutsideOptionConfig, PackageConfig,
                               RedLineConfig, RulesConfig, ScenarioConfig)
from sim.domain.csv_import import csv_data
from sim.domain.errors import ConfigError
from sim.domain.scenario.data import Actor, Issue, OutsideOption, Package, RedLine, Rules, Scenario
from sim.domain.voting import build_voting

OUTSIDE_OPTION_KINDS = ("status_quo", "reservation", "war")


def _as_plain(node: Any) -> Any:
    """OmegaConf node → plain Python containers (dicts / lists), resolving interpolations."""
    try:
        from omegaconf import DictConfig, ListConfig, OmegaConf

        if isinstance(node, (DictConfig, ListConfig)):
            return OmegaConf.to_container(node, resolve=True)
    except ImportError:  # pragma: no cover - omegaconf is a dependency
        pass
    return node


def _check_keys(mapping: Mapping[str, Any], allowed: Sequence[str], source: str, prefix: str) -> None:
    for key in mapping:
        if key not in allowed:
            raise ConfigError(source, f"{prefix}{key}",
                              f"unknown key; allowed: {', '.join(allowed)}")


def _keys(schema: type) -> tuple[str, ...]:
    """The keys a config mapping of this schema may have, in the schema's order (error messages list them)."""
    return tuple(f.name for f in fields(schema))


_ISSUE_KEYS = _keys(IssueConfig)
_ACTOR_KEYS = _keys(ActorConfig)
_OUTSIDE_KEYS = _keys(OutsideOptionConfig)
_RED_LINE_KEYS = _keys(RedLineConfig)
_PACKAGE_KEYS = _keys(PackageConfig)
_RULES_KEYS = _keys(RulesConfig)
_SCENARIO_KEYS = _keys(ScenarioConfig)


def scenario_source(scenario_id: str | None) -> str:
    """The YAML file a scenario id comes from, relative to the repository (for error messages)."""
    if not scenario_id:
        return "configs/scenario"
    path = CONFIG_DIR / "scenario" / f"{scenario_id}.yaml"
    return str(path.relative_to(REPO_ROOT)) if path.exists() else f"scenario '{scenario_id}'"


def scenario_from_config(node: Any, source: str | None = None, base_dir: Path | None = None) -> Scenario:
    """Build and validate a :class:`Scenario` from a config node (DictConfig or dict).

    Args:
        node: the ``scenario`` config node (see :class:`sim.domain.config.ScenarioConfig`).
        source: file name used in error messages; defaults to the scenario's YAML file.
        base_dir: directory against which a relative CSV ``path`` is resolved (default: cwd).

    Raises:
        ConfigError: on any invalid value or reference, naming the file and key.
    """
    data = dict(_as_plain(node) or {})
    source = source or scenario_source(data.get("id"))
    _check_keys(data, _SCENARIO_KEYS, source, "scenario.")
    if data.get("path") in (None, "", "???") and data.get("id") == "from_csv":
        raise ConfigError(source, "scenario.path", "missing; give the CSV file or directory, "
                                                   "e.g. scenario.path=data.csv")
    if data.get("path") and (data.get("issues") or data.get("actors")):
        raise ConfigError(source, "scenario.path", f"scenario {data.get('id')!r} defines its own issues and actors, "
                                                   "which a CSV would silently replace; allowed: scenario=from_csv "
                                                   "scenario.path=<file.csv> (or scenario=<file.csv>)")
    if data.get("path"):
        path = Path(data["path"])
        if not path.is_absolute():
            path = (base_dir or Path.cwd()) / path
        imported = scenario_from_csv(
            path,
            scale=data.get("scale") or (0.0, 100.0),
            status_quo=data.get("status_quo") or {},
            scenario_id=path.stem if data.get("id") in (None, "", "from_csv") else data["id"],
        )
        data = {**_scenario_to_dict(imported), **{k: data[k] for k in ("name", "description", "source")
                                                  if data.get(k)}}
        source = str(path)
    return build_scenario(data, source)


def build_scenario(data: Mapping[str, Any], source: str) -> Scenario:
    """A validated :class:`Scenario` from plain scenario data (a YAML file's mapping, or what
    :func:`sim.domain.csv_import.csv_data` read), naming ``source`` in errors."""
    scenario_id = data.get("id")
    if not scenario_id:
        raise ConfigError(source, "scenario.id", "missing; give the scenario an id")
    issues_cfg = data.get("issues") or {}
    actors_cfg = data.get("actors") or {}
    if not isinstance(issues_cfg, Mapping) or not issues_cfg:
        raise ConfigError(source, "scenario.issues", "needs at least one issue (a mapping id -> issue)")
    if not isinstance(actors_cfg, Mapping) or len(actors_cfg) < 2:
        raise ConfigError(source, "scenario.actors",
                          f"needs at least two actors; found {len(actors_cfg or {})}")

    issues = tuple(_build_issue(str(iid), cfg or {}, source) for iid, cfg in issues_cfg.items())
    issue_ids = [issue.id for issue in issues]
    actors = tuple(_build_actor(str(aid), cfg or {}, issues, source) for aid, cfg in actors_cfg.items())
    actor_ids = [actor.id for actor in actors]
    for actor in actors:
        for other in actor.outside_option.opponents or ():
            if other not in actor_ids or other == actor.id:
                raise ConfigError(
                    source, f"scenario.actors.{actor.id}.outside_option.opponents",
                    f"unknown actor {other!r}; allowed: {', '.join(a for a in actor_ids if a != actor.id)}")
        if actor.outside_option.kind == "war":
            index = actor_ids.index(actor.id)
            probe = Scenario(id="probe", issues=issues, actors=actors)
            if len(probe.opponents_of(index)) == 0:
                raise ConfigError(source, f"scenario.actors.{actor.id}.outside_option",
                                  "a war outside option needs an opposing side: set opponents or "
                                  "give the actors blocs")

    budget = data.get("budget") or None
    budget_issues: tuple[str, ...] = ()
    budget_total = 0.0
    if budget:
        budget_issues = tuple(budget.get("issues") or ())
        for iid in budget_issues:
            if iid not in issue_ids:
                raise ConfigError(source, "scenario.budget.issues",
                                  f"unknown issue {iid!r}; allowed: {', '.join(issue_ids)}")
        if len(budget_issues) < 1:
            raise ConfigError(source, "scenario.budget.issues", "name at least one issue")
        budget_total = number(budget.get("total", 100.0), source, "scenario.budget.total")
        upper = sum(issues[issue_ids.index(i)].upper for i in budget_issues)
        lower = sum(issues[issue_ids.index(i)].lower for i in budget_issues)
        check_range(budget_total, lower, upper, source, "scenario.budget.total",
                     "what the budget issues' scales can sum to")
    return Scenario(
        id=str(scenario_id), issues=issues, actors=actors, name=str(data.get("name") or scenario_id),
        description=str(data.get("description") or ""), source=str(data.get("source") or ""),
        budget_issues=budget_issues, budget_total=budget_total,
        classroom=dict(data["classroom"]) if data.get("classroom") else None,
        rules=_build_rules(data.get("rules") or {}, source),
        voting=build_voting(data.get("voting"), actor_ids, source),
        procedure=dict(data["procedure"]) if data.get("procedure") else None,
    )


def _build_rules(cfg: Mapping[str, Any], source: str) -> Rules:
    _check_keys(cfg, _RULES_KEYS, source, "scenario.rules.")
    values = {}
    for key, value in cfg.items():
        if not isinstance(value, bool):
            raise ConfigError(source, f"scenario.rules.{key}", f"{value!r}; allowed: true, false")
        values[key] = value
    return Rules(**values)


def _build_issue(issue_id: str, cfg: Mapping[str, Any], source: str) -> Issue:
    prefix = f"scenario.issues.{issue_id}"
    if not isinstance(cfg, Mapping):
        raise ConfigError(source, prefix, "must be a mapping with label, status_quo, ...")
    _check_keys(cfg, _ISSUE_KEYS, source, prefix + ".")
    lower, upper = scale_bounds(cfg.get("scale") or (0.0, 100.0), source, f"{prefix}.scale")
    if cfg.get("status_quo") is None:
        raise ConfigError(source, f"{prefix}.status_quo", "missing; allowed: a number on the scale")
    status_quo = number(cfg["status_quo"], source, f"{prefix}.status_quo")
    check_range(status_quo, lower, upper, source, f"{prefix}.status_quo", "the issue's scale")
    levels: list[tuple[str, float]] = []
    for label, point in (cfg.get("levels") or {}).items():
        point = number(point, source, f"{prefix}.levels.{label}")
        check_range(point, lower, upper, source, f"{prefix}.levels.{label}", "the issue's scale")
        levels.append((str(label), point))
    levels.sort(key=lambda level: level[1])
    indivisible = cfg.get("indivisible", False)
    if not isinstance(indivisible, bool):
        raise ConfigError(source, f"{prefix}.indivisible", f"{indivisible!r}; allowed: true, false")
    return Issue(
        id=issue_id, label=str(cfg.get("label") or issue_id), status_quo=status_quo, lower=lower,
        upper=upper, low=str(cfg.get("low") or ""), high=str(cfg.get("high") or ""),
        unit=str(cfg.get("unit") or ""), levels=tuple(levels), indivisible=indivisible,
        note=str(cfg.get("note") or ""),
    )


def _build_actor(actor_id: str, cfg: Mapping[str, Any], issues: tuple[Issue, ...], source: str) -> Actor:
    prefix = f"scenario.actors.{actor_id}"
    if not isinstance(cfg, Mapping):
        raise ConfigError(source, prefix, "must be a mapping with capability, position, salience, ...")
    _check_keys(cfg, _ACTOR_KEYS, source, prefix + ".")
    issue_ids = [issue.id for issue in issues]
    if cfg.get("capability") is None:
        raise ConfigError(source, f"{prefix}.capability", "missing; allowed: a number > 0")
    capability = number(cfg["capability"], source, f"{prefix}.capability")
    if not capability > 0:
        raise ConfigError(source, f"{prefix}.capability", f"{capability:g} is not allowed; must be > 0")
    position, salience = _actor_preferences(cfg, issues, source, prefix)
    traits = _actor_traits(cfg, issue_ids, source, prefix)
    credibility = _actor_credibility(cfg, issue_ids, source, prefix)
    return Actor(
        id=actor_id, name=str(cfg.get("name") or actor_id), capability=capability,
        position=position, salience=salience, **traits,
        bloc=None if cfg.get("bloc") is None else str(cfg["bloc"]),
        outside_option=_build_outside_option(cfg.get("outside_option") or {}, source, prefix),
        red_lines=_build_red_lines(cfg.get("red_lines") or {}, issues, source, prefix),
        package=_build_package(cfg.get("package"), salience, issues, source, prefix),
        credibility=credibility, note=str(cfg.get("note") or ""),
    )


def _actor_preferences(cfg: Mapping[str, Any], issues: tuple[Issue, ...], source: str,
                       prefix: str) -> tuple[dict[str, float], dict[str, float]]:
    """(position, salience): one number per issue each, on the issue's scale and in [0, 1]."""
    issue_ids = [issue.id for issue in issues]
    position: dict[str, float] = {}
    salience: dict[str, float] = {}
    for what, target in (("position", position), ("salience", salience)):
        given = cfg.get(what) or {}
        for iid in given:
            if iid not in issue_ids:
                raise ConfigError(source, f"{prefix}.{what}.{iid}",
                                  f"unknown issue; allowed: {', '.join(issue_ids)}")
        for issue in issues:
            key = f"{prefix}.{what}.{issue.id}"
            if issue.id not in given or given[issue.id] is None:
                raise ConfigError(source, key, f"missing; every actor needs a {what} on every issue")
            value = number(given[issue.id], source, key)
            if what == "position":
                check_range(value, issue.lower, issue.upper, source, key, "the issue's scale")
            else:
                check_range(value, 0.0, 1.0, source, key, "the salience range")
            target[issue.id] = value
    return position, salience


def _actor_traits(cfg: Mapping[str, Any], issue_ids: list[str], source: str, prefix: str) -> dict[str, Any]:
    """Risk exponent, discount factor, vetoes, and the strategy and concession exponent it overrides."""
    risk = number(cfg.get("risk_exponent", 1.0), source, f"{prefix}.risk_exponent")
    if not risk >= 1:
        raise ConfigError(source, f"{prefix}.risk_exponent",
                          f"{risk:g}; must be >= 1 (concave utilities: the exact bundle solutions need them)")
    delta = number(cfg.get("discount_factor", 1.0), source, f"{prefix}.discount_factor")
    if not 0 < delta <= 1:
        raise ConfigError(source, f"{prefix}.discount_factor", f"{delta:g}; allowed: (0, 1]")
    veto = tuple(str(v) for v in (cfg.get("veto") or ()))
    for iid in veto:
        if iid not in issue_ids:
            raise ConfigError(source, f"{prefix}.veto",
                              f"veto on unknown issue {iid!r}; allowed: {', '.join(issue_ids)}")
    exponent = cfg.get("concession_exponent")
    if exponent is not None:
        exponent = check_exponent(exponent, source, f"{prefix}.concession_exponent")
    strategy = cfg.get("strategy")
    if strategy is not None:
        check_strategy(strategy, source, f"{prefix}.strategy")
    return {"risk_exponent": risk, "discount_factor": delta, "veto": veto, "strategy": strategy,
            "concession_exponent": exponent}


def _actor_credibility(cfg: Mapping[str, Any], issue_ids: list[str], source: str, prefix: str) -> dict[str, float]:
    """kappa per issue id, in [0, 1] (issues not named: 1)."""
    credibility: dict[str, float] = {}
    given = cfg.get("credibility") or {}
    if not isinstance(given, Mapping):
        raise ConfigError(source, f"{prefix}.credibility", "must be a mapping issue id -> kappa in [0, 1]")
    for iid, value in given.items():
        key = f"{prefix}.credibility.{iid}"
        if iid not in issue_ids:
            raise ConfigError(source, key, f"unknown issue; allowed: {', '.join(issue_ids)}")
        credibility[str(iid)] = number(value, source, key)
        check_range(credibility[str(iid)], 0.0, 1.0, source, key, "the probability range")
    return credibility


def _build_red_lines(cfg: Mapping[str, Any], issues: tuple[Issue, ...], source: str,
                     prefix: str) -> dict[str, RedLine]:
    prefix = f"{prefix}.red_lines"
    if not isinstance(cfg, Mapping):
        raise ConfigError(source, prefix, "must be a mapping issue id -> {min, max, levels}")
    by_id = {issue.id: issue for issue in issues}
    lines: dict[str, RedLine] = {}
    for iid, line in cfg.items():
        key = f"{prefix}.{iid}"
        if iid not in by_id:
            raise ConfigError(source, key, f"unknown issue; allowed: {', '.join(by_id)}")
        if not isinstance(line, Mapping):
            raise ConfigError(source, key, "must be a mapping with min, max or levels")
        _check_keys(line, _RED_LINE_KEYS, source, key + ".")
        issue = by_id[iid]
        bounds = {}
        for end in ("min", "max"):
            if line.get(end) is not None:
                bounds[end] = number(line[end], source, f"{key}.{end}")
                check_range(bounds[end], issue.lower, issue.upper, source, f"{key}.{end}",
                             "the issue's scale")
        if "min" in bounds and "max" in bounds and bounds["min"] > bounds["max"]:
            raise ConfigError(source, key, f"min {bounds['min']:g} > max {bounds['max']:g}; "
                                           "nothing would be acceptable")
        points: tuple[float, ...] = ()
        if line.get("levels") is not None:
            names = dict(issue.levels)
            if not names:
                raise ConfigError(source, f"{key}.levels", "the issue has no levels; use min/max")
            for label in line["levels"]:
                if str(label) not in names:
                    raise ConfigError(source, f"{key}.levels", f"unknown level {label!r}; allowed: "
                                                               f"{', '.join(names)}")
            points = tuple(sorted(names[str(label)] for label in line["levels"]))
        if not bounds and not points:
            raise ConfigError(source, key, "give min, max or levels")
        red_line = RedLine(issue=str(iid), lower=bounds.get("min", -math.inf),
                           upper=bounds.get("max", math.inf), levels=points,
                           note=str(line.get("note") or ""))
        if issue.discrete and not red_line.allows(np.array(issue.choices)).any():
            raise ConfigError(source, key, "excludes every level of the issue; allowed: "
                                           + ", ".join(f"{v:g}" for v in issue.choices))
        lines[str(iid)] = red_line
    return lines


def _build_package(cfg: Mapping[str, Any] | None, salience: Mapping[str, float],
                   issues: tuple[Issue, ...], source: str, prefix: str) -> Package | None:
    if not cfg:
        return None
    prefix = f"{prefix}.package"
    if not isinstance(cfg, Mapping):
        raise ConfigError(source, prefix, "must be a mapping with issues, weights, max or min")
    _check_keys(cfg, _PACKAGE_KEYS, source, prefix + ".")
    by_id = {issue.id: issue for issue in issues}
    names = [str(i) for i in (cfg.get("issues") or [])]
    if not names:
        raise ConfigError(source, f"{prefix}.issues", "name at least one issue")
    for iid in names:
        if iid not in by_id:
            raise ConfigError(source, f"{prefix}.issues", f"unknown issue {iid!r}; allowed: "
                                                          f"{', '.join(by_id)}")
    given = cfg.get("weights") or {}
    for iid in given:
        if iid not in names:
            raise ConfigError(source, f"{prefix}.weights.{iid}",
                              f"not one of the package's issues; allowed: {', '.join(names)}")
    weights = []
    for iid in names:
        weight = number(given.get(iid, salience[iid]), source, f"{prefix}.weights.{iid}")
        if weight < 0:
            raise ConfigError(source, f"{prefix}.weights.{iid}", f"{weight:g}; must be >= 0")
        weights.append(weight)
    if sum(weights) <= 0:
        raise ConfigError(source, f"{prefix}.weights", "all zero; at least one weight must be > 0")
    low = min(by_id[i].lower for i in names)
    high = max(by_id[i].upper for i in names)
    bounds = {}
    for end in ("min", "max"):
        if cfg.get(end) is not None:
            bounds[end] = number(cfg[end], source, f"{prefix}.{end}")
            check_range(bounds[end], low, high, source, f"{prefix}.{end}", "the issues' scale")
    if not bounds:
        raise ConfigError(source, prefix, "give max (weighted mean at most) or min (at least)")
    total = sum(weights)
    return Package(issues=tuple(names), weights=tuple(w / total for w in weights),
                   lower=bounds.get("min", -math.inf), upper=bounds.get("max", math.inf),
                   note=str(cfg.get("note") or ""))


def _build_outside_option(cfg: Mapping[str, Any], source: str, prefix: str) -> OutsideOption:
    prefix = f"{prefix}.outside_option"
    _check_keys(cfg, _OUTSIDE_KEYS, source, prefix + ".")
    kind = str(cfg.get("kind") or "status_quo")
    if kind not in OUTSIDE_OPTION_KINDS:
        raise ConfigError(source, f"{prefix}.kind",
                          f"unknown kind {kind!r}; allowed: {', '.join(OUTSIDE_OPTION_KINDS)}")
    value = cfg.get("value")
    if kind == "reservation":
        if value is None:
            raise ConfigError(source, f"{prefix}.value", "missing; a reservation utility in [0, 1]")
        value = number(value, source, f"{prefix}.value")
        check_range(value, 0.0, 1.0, source, f"{prefix}.value", "the utility range")
    elif value is not None:
        value = number(value, source, f"{prefix}.value")
    optimism = number(cfg.get("optimism", 1.0), source, f"{prefix}.optimism")
    if not optimism > 0:
        raise ConfigError(source, f"{prefix}.optimism", f"{optimism:g}; must be > 0")
    cost = number(cfg.get("cost", 0.0), source, f"{prefix}.cost")
    if cost < 0:
        raise ConfigError(source, f"{prefix}.cost", f"{cost:g}; must be >= 0")
    opponents = cfg.get("opponents")
    shift = number(cfg.get("shift", 0.0), source, f"{prefix}.shift")
    check_range(shift, -1.0, 1.0, source, f"{prefix}.shift", "the per-round change of a probability")
    if shift != 0 and kind != "war":
        raise ConfigError(source, f"{prefix}.shift", "a power shift needs kind: war")
    return OutsideOption(kind=kind, value=value, optimism=optimism, cost=cost, shift=shift,
                         opponents=None if opponents is None else tuple(str(o) for o in opponents))


def scenario_from_arrays(positions, saliences, capabilities, status_quo=None, risk=None, scale=(0.0, 100.0),
                         scenario_id: str = "arrays", **actor_extra) -> Scenario:
    """A scenario from arrays: actors a0.., issues i0.. on ``scale`` (tests, benchmarks, notebooks);
    ``actor_extra``: further actor keys, one value per actor."""
    positions = np.asarray(positions, float)
    n, k = positions.shape
    status_quo = np.full(k, 50.0) if status_quo is None else np.asarray(status_quo, float)
    issues = {f"i{j}": {"label": f"issue {j}", "status_quo": float(status_quo[j]), "scale": list(scale)}
              for j in range(k)}
    actors = {}
    for i in range(n):
        actors[f"a{i}"] = {
            "capability": float(capabilities[i]),
            "position": {f"i{j}": float(positions[i, j]) for j in range(k)},
            "salience": {f"i{j}": float(saliences[i][j]) for j in range(k)},
            "risk_exponent": 1.0 if risk is None else float(risk[i]),
            **{key: value[i] for key, value in actor_extra.items()},
        }
    return scenario_from_config({"id": scenario_id, "issues": issues, "actors": actors})


def _scenario_to_dict(scenario: Scenario) -> dict[str, Any]:
    """Inverse of :func:`build_scenario` (used to merge CSV data with YAML metadata)."""
    return {
        "id": scenario.id, "name": scenario.name,
        "issues": {
            i.id: {"label": i.label, "status_quo": i.status_quo, "scale": [i.lower, i.upper],
                   "note": i.note}
            for i in scenario.issues
        },
        "actors": {
            a.id: {"name": a.name, "capability": a.capability, "position": dict(a.position),
                   "salience": dict(a.salience)}
            for a in scenario.actors
        },
    }


def scenario_from_csv(path: str | Path, scale: Sequence[float] = (0.0, 100.0),
                      status_quo: Mapping[str, float] | None = None, scenario_id: str | None = None) -> Scenario:
    """A :class:`Scenario` from the BDM/DEU long CSV format (:func:`sim.domain.csv_import.csv_data` reads and
    checks the file; see there for the arguments)."""
    return build_scenario(csv_data(path, scale, status_quo, scenario_id), str(path))
