"""Bargaining protocols, one module each; the registry is :mod:`sim.engine.protocols.registry`.

``PROTOCOLS`` here is loaded on first use: the parameter schemas (:mod:`sim.domain.protocol_params`)
are importable without the protocols and what they import.
"""

from __future__ import annotations

from typing import Any

__all__ = ["PROTOCOLS"]


def __getattr__(name: str) -> Any:
    if name == "PROTOCOLS":
        from sim.engine.protocols.registry import PROTOCOLS

        globals()["PROTOCOLS"] = PROTOCOLS
        return PROTOCOLS
    raise AttributeError(f"module 'sim.engine.protocols' has no attribute {name!r}")
