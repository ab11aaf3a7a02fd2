"""Protocol registry: names match the files in ``configs/protocol/`` (a test checks both ways).

Loaded on first use (``from sim.protocols import PROTOCOLS``): the parameter schemas
(:mod:`sim.protocols.params`) are importable without the protocols and what they import.
"""

from __future__ import annotations

from typing import Any

__all__ = ["PROTOCOLS", "Protocol", "ProtocolOutcome"]


def __getattr__(name: str) -> Any:
    if name == "PROTOCOLS":
        from sim.protocols.eu import EUProtocol
        from sim.protocols.exchange import ExchangeProtocol
        from sim.protocols.offers import OffersProtocol

        registry = {EUProtocol.name: EUProtocol, OffersProtocol.name: OffersProtocol,
                    ExchangeProtocol.name: ExchangeProtocol}
        globals()["PROTOCOLS"] = registry
        return registry
    if name in ("Protocol", "ProtocolOutcome"):
        from sim.protocols import base

        return getattr(base, name)
    raise AttributeError(f"module 'sim.protocols' has no attribute {name!r}")
