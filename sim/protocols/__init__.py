"""Protocol registry: names match the files in ``configs/protocol/`` (a test checks both ways)."""

from __future__ import annotations

from sim.protocols.base import Protocol, ProtocolOutcome
from sim.protocols.eu import EUProtocol

PROTOCOLS: dict[str, type[Protocol]] = {
    EUProtocol.name: EUProtocol,
}

__all__ = ["PROTOCOLS", "Protocol", "ProtocolOutcome"]
