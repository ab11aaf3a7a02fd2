"""What a calibration's data can tell about each parameter: prior against posterior.

An ABC posterior can look informative and be nothing but the prior: cut at a threshold the record crosses
(every value above it fits equally well), or stopped by the prior's own bound. Per calibrated parameter,
on the prior's own scale (the logarithm for a log-uniform prior, where the prior is flat):

* **sd ratio**: posterior sd / prior sd (1: the data taught nothing about the spread);
* **mass at each bound**: the posterior's weight in the outer 5 % of the prior's range at each end (the
  prior puts 5 % there): much more means the posterior is piled against the prior's bound;
* **KS distance** (weighted Kolmogorov-Smirnov) of the posterior from the prior, tested at 5 % with the
  effective number of particles;
* **profile**: along the parameter's prior range (15 points, the others at their posterior medians), which
  values the calibration would accept: the mean distance of its replicates (seeded as in the calibration)
  at most the last generation's threshold ε.

Verdicts, in this order: ``prior`` (the posterior is indistinguishable from the prior: the record does not
inform it); ``threshold`` (the profile is one step, accepted from a point to the prior's bound and rejected
before it, and the posterior reaches that bound: the record identifies only the threshold, located by
bisection, and the rest of the posterior is the prior cut there; for the other parameter it trades off with
most, the threshold at that parameter's prior bounds too); ``bound`` (piled against a bound: the prior decides
where it ends); else ``informed``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import pandas as pd

from sim.runs.calibration import CalibrationSpec, Prior, Simulator, sweep_context, weighted_quantiles

EDGE = 0.05  # the outer share of the prior's range at each end that "mass at a bound" counts
PILED = 2.5  # piled against a bound: at least this many times the prior's mass there
GRID = 15  # profile points along each prior range
STEP_FIT = 0.9  # a profile is one step when a step matches at least this share of its points
TRADE_OFF = 0.3  # |weighted correlation| from which another parameter's bounds get their own threshold
VERDICTS = ("prior", "threshold", "bound", "informed")


def to_unit(prior: Prior, values: Any) -> np.ndarray:
    """Values on the prior's own scale, mapped to [0, 1] (under the prior: uniform)."""
    values = np.asarray(values, float)
    if prior.kind == "loguniform":
        return (np.log(values) - np.log(prior.low)) / (np.log(prior.high) - np.log(prior.low))
    return (values - prior.low) / (prior.high - prior.low)


def from_unit(prior: Prior, unit: Any) -> np.ndarray:
    """The inverse of :func:`to_unit`."""
    unit = np.asarray(unit, float)
    if prior.kind == "loguniform":
        return np.exp(np.log(prior.low) + unit * (np.log(prior.high) - np.log(prior.low)))
    return prior.low + unit * (prior.high - prior.low)


def prior_sd(prior: Prior) -> float:
    """The prior's standard deviation in the parameter's own units."""
    a, b = prior.low, prior.high
    if prior.kind == "loguniform":
        span = np.log(b / a)
        mean = (b - a) / span
        return float(np.sqrt((b * b - a * a) / (2 * span) - mean * mean))
    return float((b - a) / np.sqrt(12.0))


def ks_uniform(unit: np.ndarray, weights: np.ndarray, low: float = 0.0, high: float = 1.0) -> float:
    """Weighted Kolmogorov-Smirnov distance of a sample on [0, 1] from the uniform distribution on [low, high]."""
    order = np.argsort(unit)
    u, w = unit[order], weights[order] / weights.sum()
    after = np.cumsum(w)
    before = after - w
    target = np.clip((u - low) / max(high - low, 1e-12), 0.0, 1.0)
    return float(max(np.max(np.abs(after - target)), np.max(np.abs(before - target))))


@dataclass(frozen=True)
class Threshold:
    """Where the calibration's acceptance along one parameter steps, the others held at ``at``."""

    value: float  # NaN: no step (no value accepted, or every one)
    side: str  # "above": accepted from the value up to the prior's upper bound; "below": down to the lower
    at: Mapping[str, float]  # the other parameters (by key)
    accepted: int  # grid points accepted
    points: int  # grid points

    def describe(self, short: Mapping[str, str], only: str | None = None) -> str:
        """"2.25 at cost 0, ..." (``only``: name just that other parameter); for no step, why not."""
        at = {k: v for k, v in self.at.items() if only is None or k == only}
        where = ", ".join(f"{short[k]} {v:.3g}" for k, v in at.items())
        if np.isfinite(self.value):
            return f"{self.side} {self.value:.3g}" + (f" at {where}" if where else "")
        what = ("every value fits" if self.accepted == self.points else "no value fits" if self.accepted == 0
                else "no single step")
        return what + (f" at {where}" if where else "")


@dataclass(frozen=True)
class Diagnosis:
    """Prior against posterior for one parameter (:func:`diagnose`)."""

    parameter: str
    prior: str
    mean: float
    sd: float
    prior_sd: float
    sd_ratio: float  # on the prior's own scale (log for a log-uniform prior)
    mass_low: float  # posterior weight in the lowest 5 % of the prior's range (prior: 0.05)
    mass_high: float
    ks_prior: float
    critical: float  # the 5 % critical KS distance for the effective number of particles
    verdict: str = "informed"
    accepted: str = ""  # the profile: one character per grid point, "+" accepted, "." not
    thresholds: tuple[Threshold, ...] = ()  # threshold: at the others' posterior medians first
    epsilon: float = float("nan")
    short: Mapping[str, str] = field(default_factory=dict)  # parameter key -> short name in messages

    @property
    def threshold(self) -> float:
        return self.thresholds[0].value if self.thresholds else float("nan")

    @property
    def side(self) -> str:
        return self.thresholds[0].side if self.thresholds else ""

    def row(self) -> dict[str, Any]:
        return {"parameter": self.parameter, "prior": self.prior, "mean": self.mean, "sd": self.sd,
                "prior_sd": self.prior_sd, "sd_ratio": self.sd_ratio, "mass_low": self.mass_low,
                "mass_high": self.mass_high, "ks_prior": self.ks_prior, "critical": self.critical,
                "profile": self.accepted, "verdict": self.verdict, "threshold": self.threshold, "side": self.side}

    def warning(self) -> str | None:
        """One line when the data inform the parameter only through a threshold or a prior bound, or not at
        all; None when the posterior is informed."""
        name = self.parameter
        if self.verdict == "prior":
            return (f"warning: {name}: the posterior is the prior (sd ratio {self.sd_ratio:.2f}, KS {self.ks_prior:.2f} "
                    f"< {self.critical:.2f}): the record does not inform it")
        if self.verdict == "threshold":
            first, *more = self.thresholds
            bound = self.prior.split("[", 1)[1].rstrip("]").split(", ")[1 if first.side == "above" else 0]
            mass = self.mass_high if first.side == "above" else self.mass_low
            partner = next(iter(set(more[0].at.items()) - set(first.at.items())), (None,))[0] if more else None
            also = "".join(f"; {t.describe(self.short, partner)}" for t in more)
            return (f"warning: {name}: the record identifies only a threshold: the runs fit it (distance <= "
                    f"{self.epsilon:.3g}) for {self.short[name]} {first.describe(self.short)} (posterior medians)"
                    f"{also}; the posterior is the prior cut there, up to the prior's bound {bound} ({mass:.0%} of "
                    f"it in the outer 5 %)")
        if self.verdict == "bound":
            end, mass = ("lower", self.mass_low) if self.mass_low >= self.mass_high else ("upper", self.mass_high)
            return (f"warning: {name}: {mass:.0%} of the posterior lies in the {end} 5 % of the prior's range: "
                    f"piled against the prior's {end} bound, which decides where it ends")
        return None


def posterior_statistics(posterior: pd.DataFrame, spec: CalibrationSpec) -> list[Diagnosis]:
    """The particle statistics of every parameter (no simulation; verdict ``prior`` or, for now, ``informed``)."""
    weights = posterior["weight"].to_numpy(float)
    weights = weights / weights.sum()
    critical = 1.36 * float(np.sqrt(np.sum(weights ** 2)))  # 1.36 / sqrt(effective number of particles)
    short = short_names(spec)
    out = []
    for prior in spec.parameters:
        values = posterior[prior.column].to_numpy(float)
        unit = to_unit(prior, values)
        mean = float(np.sum(weights * values))
        unit_mean = float(np.sum(weights * unit))
        ks = ks_uniform(unit, weights)
        out.append(Diagnosis(
            parameter=prior.key, prior=f"{prior.kind}[{prior.low:g}, {prior.high:g}]", mean=mean,
            sd=float(np.sqrt(np.sum(weights * (values - mean) ** 2))), prior_sd=prior_sd(prior),
            sd_ratio=float(np.sqrt(np.sum(weights * (unit - unit_mean) ** 2)) * np.sqrt(12.0)),
            mass_low=float(weights[unit < EDGE].sum()), mass_high=float(weights[unit > 1 - EDGE].sum()),
            ks_prior=ks, critical=critical, verdict="prior" if ks <= critical else "informed", short=short))
    return out


def short_names(spec: CalibrationSpec) -> dict[str, str]:
    """Each parameter key's last part (its full key where two would share one)."""
    last = [p.key.rsplit(".", 1)[-1] for p in spec.parameters]
    return {p.key: (name if last.count(name) == 1 else p.key) for p, name in zip(spec.parameters, last)}


def posterior_medians(posterior: pd.DataFrame, spec: CalibrationSpec) -> dict[str, float]:
    """Each parameter's weighted posterior median, by column."""
    weights = posterior["weight"].to_numpy(float)
    return {p.column: weighted_quantiles(posterior[p.column].to_numpy(float), weights, [0.5])[0]
            for p in spec.parameters}


def weighted_correlation(x: np.ndarray, y: np.ndarray, weights: np.ndarray) -> float:
    w = weights / weights.sum()
    dx, dy = x - np.sum(w * x), y - np.sum(w * y)
    denominator = np.sqrt(np.sum(w * dx * dx) * np.sum(w * dy * dy))
    return float(np.sum(w * dx * dy) / denominator) if denominator > 0 else 0.0


class Profile:
    """The calibration's acceptance along one parameter, the others held fixed: a simulation per point
    (``spec.replicates`` runs seeded as in the calibration), accepted when the mean distance is at most ε."""

    def __init__(self, spec: CalibrationSpec, base: Mapping[str, Any], epsilon: float, workers: int = 1):
        self.spec, self.epsilon, self.workers = spec, float(epsilon), max(int(workers), 1)
        self.simulator = Simulator(sweep_context(spec, base, Path(".")), spec)

    def accepted(self, values: Mapping[str, float]) -> bool:
        """Whether a particle with these values (by column) would be accepted."""
        return self.simulator(dict(values))["distance"] <= self.epsilon

    def along(self, prior: Prior, at: Mapping[str, float], grid: int = GRID) -> np.ndarray:
        """Acceptance at ``grid`` points evenly spread over the prior's own scale (on ``workers`` processes)."""
        points = [{**at, prior.column: float(v)} for v in from_unit(prior, np.linspace(0.0, 1.0, grid))]
        if self.workers == 1:
            return np.array([self.accepted(p) for p in points])
        import os
        from concurrent.futures import ProcessPoolExecutor

        from sim.runs.lifeline import die_with

        # (its workers die with the calibration, however it ends: no orphans after kill -9)
        with ProcessPoolExecutor(max_workers=self.workers, initializer=die_with,
                                 initargs=(os.getpid(),)) as pool:
            distances = list(pool.map(_distance, [self.simulator] * len(points), points))
        return np.array([d <= self.epsilon for d in distances])

    def threshold(self, prior: Prior, at: Mapping[str, float], accepted: np.ndarray | None = None,
                  steps: int = 6) -> Threshold:
        """The step of the acceptance along ``prior`` (see :func:`step`), refined by bisection."""
        accepted = self.along(prior, at) if accepted is None else accepted
        found = step(accepted)
        keys = {p.column: p.key for p in self.spec.parameters}
        named = {keys[c]: v for c, v in at.items()}
        if found is None:
            return Threshold(float("nan"), "", named, int(accepted.sum()), len(accepted))
        side, i = found  # the step lies between grid points i and i + 1
        units = np.linspace(0.0, 1.0, len(accepted))
        inside, outside = (units[i + 1], units[i]) if side == "above" else (units[i], units[i + 1])
        for _ in range(steps):
            middle = 0.5 * (inside + outside)
            if self.accepted({**at, prior.column: float(from_unit(prior, middle))}):
                inside = middle
            else:
                outside = middle
        return Threshold(float(from_unit(prior, inside)), side, named, int(accepted.sum()), len(accepted))


def _distance(simulator: Simulator, values: Mapping[str, float]) -> float:
    return float(simulator(dict(values))["distance"])


def step(accepted: np.ndarray) -> tuple[str, int] | None:
    """("above", i): rejected up to grid point i, accepted after it, to the end; ("below", i): accepted up
    to i, rejected after; None unless such a step, with at least two points on each side, matches at least
    :data:`STEP_FIT` of the points on each side."""
    accepted = np.asarray(accepted, bool)
    n = len(accepted)
    best: tuple[float, str, int] | None = None
    for i in range(1, n - 2):
        for side in ("above", "below"):
            inside = accepted[i + 1:] if side == "above" else accepted[:i + 1]
            outside = accepted[:i + 1] if side == "above" else accepted[i + 1:]
            fit = min(float(inside.mean()), float(1.0 - outside.mean()))
            if best is None or fit > best[0]:
                best = (fit, side, i)
    if best is None or best[0] < STEP_FIT:
        return None
    return best[1], best[2]


def diagnose(posterior: pd.DataFrame, spec: CalibrationSpec, base: Mapping[str, Any] | None = None,
             epsilon: float = float("nan"), workers: int = 1) -> list[Diagnosis]:
    """Prior against posterior for every parameter; with ``base`` and a finite ``epsilon`` (the last
    generation's threshold) also the profiles (simulated on ``workers`` processes), the ``threshold``
    verdicts and their thresholds."""
    from dataclasses import replace

    diagnoses = posterior_statistics(posterior, spec)
    if base is None or not np.isfinite(epsilon):
        return [replace(d, verdict=d.verdict if d.verdict == "prior" else _bound_or_informed(d)) for d in diagnoses]
    profile = Profile(spec, base, epsilon, workers)
    medians = posterior_medians(posterior, spec)
    weights = posterior["weight"].to_numpy(float)
    out: list[Diagnosis] = []
    done: set[tuple[str, str]] = set()
    for prior, diagnosis in zip(spec.parameters, diagnoses):
        at = {c: v for c, v in medians.items() if c != prior.column}
        accepted = profile.along(prior, at)
        diagnosis = replace(diagnosis, accepted="".join("+" if a else "." for a in accepted), epsilon=profile.epsilon)
        found = step(accepted)
        reaches = found is not None and (diagnosis.mass_high if found[0] == "above" else diagnosis.mass_low) >= EDGE / 2
        if diagnosis.verdict != "prior" and reaches:
            thresholds = [profile.threshold(prior, at, accepted)]
            others = [(abs(weighted_correlation(posterior[prior.column].to_numpy(float),
                                                posterior[p.column].to_numpy(float), weights)), p)
                      for p in spec.parameters if p is not prior]
            partner = max(others, key=lambda o: o[0])[1] if others else None
            if partner is not None and max(others, key=lambda o: o[0])[0] >= TRADE_OFF and (partner.key, prior.key) not in done:
                done.add((prior.key, partner.key))  # one view of a pair's trade-off is enough
                for end in (partner.low, partner.high):
                    thresholds.append(profile.threshold(prior, {**at, partner.column: end}))
            diagnosis = replace(diagnosis, verdict="threshold", thresholds=tuple(thresholds))
        elif diagnosis.verdict != "prior":
            diagnosis = replace(diagnosis, verdict=_bound_or_informed(diagnosis))
        out.append(diagnosis)
    return out


def _bound_or_informed(diagnosis: Diagnosis) -> str:
    return "bound" if max(diagnosis.mass_low, diagnosis.mass_high) >= PILED * EDGE else "informed"


def diagnostics_table(diagnoses: list[Diagnosis]) -> pd.DataFrame:
    """One row per parameter (diagnostics.parquet)."""
    return pd.DataFrame([d.row() for d in diagnoses])


def format_diagnostics(diagnoses: list[Diagnosis]) -> str:
    """The table and the warning lines, as ``experiments.calibrate`` prints them."""
    if not diagnoses:
        return ""
    table = diagnostics_table(diagnoses)[["parameter", "prior", "sd", "prior_sd", "sd_ratio", "mass_low",
                                          "mass_high", "ks_prior", "profile", "verdict"]]
    epsilon = diagnoses[0].epsilon
    lines = ["prior vs posterior (sd_ratio on the prior's scale, log for a log-uniform prior; mass_low/high: the "
             "posterior's weight in the outer 5 % of the prior's range, the prior's is 0.05; ks_prior: "
             f"KS distance from the prior, 5 % critical value {diagnoses[0].critical:.3f}; profile: accepted (+) "
             + (f"at distance <= {epsilon:.3g} " if np.isfinite(epsilon) else "")
             + "along the prior's range, the others at their posterior medians):",
             table.to_string(index=False, na_rep="-", float_format=lambda v: f"{v:.3f}")]
    lines += [w for w in (d.warning() for d in diagnoses) if w]
    return "\n".join(lines)
