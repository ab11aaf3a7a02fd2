"""Statistics shared by analyses and figures."""

from __future__ import annotations

from typing import Any

import numpy as np


def binomial_interval(successes: np.ndarray | int, n: np.ndarray | int, z: float = 1.96) -> tuple[Any, Any]:
    """Wilson score interval of a proportion (95% by default); stays inside [0, 1], also at 0 and n."""
    successes, n = np.asarray(successes, float), np.asarray(n, float)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = successes / n
        centre = (p + z * z / (2 * n)) / (1 + z * z / n)
        half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half
