"""Checks of single values a user writes (YAML, CSV, override, Python API), each raising a one-line
ConfigError. Each check is written once here; the scenario builder, the run specification and the
model call it."""

from __future__ import annotations

import math
from typing import Any

from sim.domain.errors import ConfigError
from sim.domain.strategies import STRATEGIES


def number(value: Any, source: str, key: str) -> float:
    """A finite float, or a ConfigError naming the key."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ConfigError(source, key, f"{value!r} is not a number") from None
    if not math.isfinite(number):
        raise ConfigError(source, key, f"{value!r} is not allowed; must be a finite number")
    return number


MAX_SPAN = 1e12  # widest issue scale: utilities divide by the span and square it (ρ = 2)


def scale_bounds(value: Any, source: str, key: str) -> tuple[float, float]:
    """An issue scale: two finite numbers [lower, upper] with 0 < upper - lower <= MAX_SPAN."""
    allowed = f"allowed: two numbers [lower, upper], upper > lower, at most {MAX_SPAN:.0e} apart"
    if isinstance(value, (str, bytes)) or not hasattr(value, "__len__") or len(value) != 2:
        raise ConfigError(source, key, f"{value!r}; {allowed}")
    lower, upper = number(value[0], source, key), number(value[1], source, key)
    if not 0 < upper - lower <= MAX_SPAN:
        raise ConfigError(source, key, f"[{lower:g}, {upper:g}]; {allowed}")
    return lower, upper


def check_range(value: float, low: float, high: float, source: str, key: str, what: str) -> None:
    if not low <= value <= high:
        raise ConfigError(source, key, f"{value:g} is outside {what}; allowed: [{low:g}, {high:g}]")


def check_rounds(rounds: Any, source: str = "configs/config.yaml", key: str = "rounds") -> int:
    """A round limit: a whole number >= 0 (True and 2.5 are not), returned as an int."""
    try:
        whole = int(rounds)
    except (TypeError, ValueError, OverflowError):
        whole = None
    if isinstance(rounds, bool) or whole is None or whole != rounds or whole < 0:
        raise ConfigError(source, key, f"{rounds!r}; allowed: a whole number >= 0")
    return whole


def check_strategy(name: Any, source: str = "configs/strategy", key: str = "strategy") -> None:
    """A registered concession strategy (:data:`sim.domain.strategies.STRATEGIES`)."""
    if name not in STRATEGIES:
        raise ConfigError(source, key, f"unknown strategy {name!r}; allowed: {', '.join(sorted(STRATEGIES))}")


def check_exponent(value: Any, source: str, key: str) -> float:
    """A concession exponent e (Faratin et al. 1998): a finite number > 0."""
    exponent = number(value, source, key)
    if not exponent > 0:
        raise ConfigError(source, key, f"{exponent:g}; must be > 0")
    return exponent
