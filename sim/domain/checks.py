"""Checks of single values a user writes (YAML, CSV, override), each raising a one-line ConfigError."""

from __future__ import annotations

import math
from typing import Any

from sim.domain.errors import ConfigError


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
    """A round limit: a whole number >= 0 (not a bool), or a ConfigError."""
    if isinstance(rounds, bool) or int(rounds) != rounds or rounds < 0:
        raise ConfigError(source, key, f"{rounds!r}; allowed: a whole number >= 0")
    return int(rounds)
