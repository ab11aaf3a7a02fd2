"""Protocol registry: names match the files in ``configs/protocol/`` (a test checks both ways)."""

from __future__ import annotations

from sim.protocols.base import Protocol, ProtocolOutcome
from sim.protocols.eu import EUProtocol
from sim.protocols.exchange import ExchangeProtocol
from sim.protocols.offers import OffersProtocol

PROTOCOLS: dict[str, type[Protocol]] = {
    EUProtocol.name: EUProtocol,
    OffersProtocol.name: OffersProtocol,
    ExchangeProtocol.name: ExchangeProtocol,
}

__all__ = ["PROTOCOLS", "Protocol", "ProtocolOutcome"]
