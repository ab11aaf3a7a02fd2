"""The protocol registry (names match ``configs/protocol/<name>.yaml``; a test checks both ways), and
the checks of a protocol's parameters and of what it needs from a scenario."""

from __future__ import annotations

from dataclasses import fields, is_dataclass
from typing import Any, Mapping

from sim.domain.csv_import import NO_STATUS_QUO
from sim.domain.errors import ConfigError
from sim.domain.scenario import Scenario
from sim.engine.protocols.base import Protocol
from sim.engine.protocols.eu import EUProtocol
from sim.engine.protocols.exchange import ExchangeProtocol
from sim.engine.protocols.offers import OffersProtocol

PROTOCOLS: dict[str, type[Protocol]] = {cls.name: cls for cls in (EUProtocol, OffersProtocol, ExchangeProtocol)}


def build_params(protocol: str, params: Mapping[str, Any] | Any | None) -> Any:
    """Protocol parameters as its ``Params`` dataclass, checking names and types.

    Raises:
        ConfigError: unknown protocol, unknown parameter or a value of the wrong type.
    """
    if protocol not in PROTOCOLS:
        raise ConfigError("configs/protocol", "protocol",
                          f"unknown protocol {protocol!r}; allowed: {', '.join(sorted(PROTOCOLS))}")
    cls = PROTOCOLS[protocol].Params
    if params is None:
        return cls()
    if is_dataclass(params):
        return params
    source = f"configs/protocol/{protocol}.yaml"
    allowed = [f.name for f in fields(cls)]
    values = {}
    for key, value in dict(params).items():
        if key not in allowed:
            raise ConfigError(source, f"protocol.{key}", f"unknown key; allowed: {', '.join(allowed)}")
        default = getattr(cls(), key)
        if isinstance(default, bool):
            if not isinstance(value, bool):
                raise ConfigError(source, f"protocol.{key}", f"{value!r}; allowed: true, false")
        elif isinstance(default, (int, float)):
            try:
                number = float(value)
            except (TypeError, ValueError):
                raise ConfigError(source, f"protocol.{key}", f"{value!r} is not a number") from None
            if isinstance(default, int) and not number.is_integer():
                raise ConfigError(source, f"protocol.{key}", f"{value!r}; allowed: a whole number")
            value = type(default)(number)
        elif isinstance(default, list):
            if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple)):
                raise ConfigError(source, f"protocol.{key}", f"{value!r}; allowed: a list, e.g. [a, b]")
            value = [str(v) for v in value]
        values[key] = value
    return cls(**values)


def check_protocol_needs(scenario: Scenario, protocol: str, source: str | None = None) -> None:
    """Refuse, in one line, a protocol that cannot run this scenario: one without ``supports_budget`` on a
    divisible pie (``scenario.budget``), or one whose
    ``needs_status_quo`` is set (the bundle protocols: it is their disagreement point) on a scenario
    imported from a plain BDM/DEU CSV file, which gives none (:data:`sim.domain.csv_import.NO_STATUS_QUO`)."""
    from sim.engine.protocols import PROTOCOLS

    cls = PROTOCOLS.get(protocol)
    if cls is not None and scenario.budget_issues and not cls.supports_budget:
        raise ConfigError(f"configs/protocol/{protocol}.yaml", "protocol",
                          f"{protocol} does not model a divisible pie (scenario.budget); allowed: "
                          + ", ".join(n for n, c in PROTOCOLS.items() if c.supports_budget))
    missing = [issue.id for issue in scenario.issues if issue.note == NO_STATUS_QUO]
    if missing and cls is not None and cls.needs_status_quo:
        without = ", ".join(n for n, c in sorted(PROTOCOLS.items()) if not c.needs_status_quo)
        raise ConfigError(source or f"scenario {scenario.id!r}", f"scenario.status_quo.{missing[0]}",
                          f"protocol {protocol!r} needs a status quo on every issue (the disagreement point); "
                          f"add a 'Status Quo' row to the CSV or +scenario.status_quo.{missing[0]}=<number>, "
                          f"or use protocol={without}, which runs without one")
