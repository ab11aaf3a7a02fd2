"""Canonical (id-sorted) layout of random draws: permuting the actors in a config must not change
which number each actor, pair or issue receives (DESIGN.md "Randomness and reproducibility")."""

from __future__ import annotations

import numpy as np


def canonical_layout(draws: np.ndarray, actor_rank: np.ndarray, issue_rank: np.ndarray,
                     pairwise: bool = False) -> np.ndarray:
    """Uniform draws (..., N, K), or (..., N, N, K) with ``pairwise``, laid out in canonical (id-sorted)
    order: permuting the actors in the config must not change which number each actor (pair, issue)
    receives. ``pairwise`` keeps one symmetric draw per unordered pair (the upper triangle). Leading
    axes (runs) are carried through."""
    if pairwise:
        upper = np.triu(np.moveaxis(draws, -1, -3), 1)  # (..., K, N, N)
        draws = np.moveaxis(upper + np.swapaxes(upper, -1, -2), -3, -1)
        return draws[..., actor_rank, :, :][..., actor_rank, :][..., issue_rank]
    return draws[..., actor_rank, :][..., issue_rank]
