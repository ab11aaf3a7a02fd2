"""The EU Council's voting rules by treaty regime, and the capabilities the DEU benchmark offers
(docs/explanation/validation.md, "Capabilities"; data/deu3/README.md).

Regimes, chosen by a proposal's date of introduction:

* ``amsterdam`` (before 1 November 2004): weighted votes of the EU-15, a qualified majority is 62 of
  87 votes (Art. 205(2) TEC as amended at Amsterdam).
* ``nice`` (1 November 2004 to 31 October 2014): the Nice weights (Act of Accession 2003, Art. 12; for
  Bulgaria and Romania the 2005 Act, for Croatia the 2012 Act); a qualified majority is 232 of 321
  votes (EU-25), 255 of 345 (EU-27), 260 of 352 (EU-28), cast by a majority of the members. The 62 %
  population check, which applies only on a member's request, is not modelled.
* ``lisbon`` (from 1 November 2014): at least 55 % of the members representing at least 65 % of the
  population (Art. 16(4) TEU). The clause that a blocking minority needs four members, and the
  transitional right (to 31 March 2017) to ask for a Nice vote, are not modelled.

Populations are millions on 1 January 2014, rounded to 0.1 (0.01 below one million), written from
Eurostat's series as we recall it: **not verified** in this work against the Council's annual Annex III
figures, which differ by year. They serve the ``population`` capability and the Lisbon population
quota; a proposal's result can move with a different year's figures.
"""

from __future__ import annotations

import datetime as _dt
import math

#: The member states in the DEU III file's column order.
STATES = ("at", "be", "bu", "cr", "cy", "cz", "dk", "ee", "fi", "fr", "de", "el", "hu", "ie", "it", "lv", "lt",
          "lu", "mt", "nl", "pl", "pt", "ro", "si", "sk", "es", "se", "uk")

EU15 = ("at", "be", "dk", "fi", "fr", "de", "el", "ie", "it", "lu", "nl", "pt", "es", "se", "uk")
#: Accession dates (members before 2004 joined before any DEU proposal).
ACCESSION = {**{s: _dt.date(1995, 1, 1) for s in EU15},
             **{s: _dt.date(2004, 5, 1) for s in ("cy", "cz", "ee", "hu", "lv", "lt", "mt", "pl", "si", "sk")},
             "bu": _dt.date(2007, 1, 1), "ro": _dt.date(2007, 1, 1), "cr": _dt.date(2013, 7, 1)}

AMSTERDAM_WEIGHTS = {"de": 10, "fr": 10, "it": 10, "uk": 10, "es": 8, "be": 5, "el": 5, "nl": 5, "pt": 5,
                     "at": 4, "se": 4, "dk": 3, "ie": 3, "fi": 3, "lu": 2}
NICE_WEIGHTS = {"de": 29, "fr": 29, "it": 29, "uk": 29, "es": 27, "pl": 27, "ro": 14, "nl": 13, "be": 12,
                "cz": 12, "el": 12, "hu": 12, "pt": 12, "at": 10, "bu": 10, "se": 10, "dk": 7, "ie": 7,
                "lt": 7, "sk": 7, "fi": 7, "cr": 7, "cy": 4, "ee": 4, "lv": 4, "lu": 4, "si": 4, "mt": 3}
#: Qualified-majority thresholds by total of weighted votes (the published figures).
QMV_VOTES = {87: 62, 321: 232, 345: 255, 352: 260}

POPULATION = {"de": 80.8, "fr": 65.8, "uk": 64.3, "it": 60.8, "es": 46.5, "pl": 38.0, "ro": 20.0, "nl": 16.8,
              "be": 11.2, "el": 11.0, "cz": 10.5, "pt": 10.4, "hu": 9.9, "se": 9.6, "at": 8.5, "bu": 7.2,
              "dk": 5.6, "fi": 5.5, "sk": 5.4, "ie": 4.6, "cr": 4.2, "lt": 2.9, "si": 2.1, "lv": 2.0,
              "ee": 1.3, "cy": 0.86, "lu": 0.55, "mt": 0.43}

REGIMES = ("amsterdam", "nice", "lisbon")
NICE_FROM = _dt.date(2004, 11, 1)
LISBON_FROM = _dt.date(2014, 11, 1)


def regime_on(date: _dt.date) -> str:
    """The Council's voting regime in force on ``date``."""
    return "amsterdam" if date < NICE_FROM else "nice" if date < LISBON_FROM else "lisbon"


def members_on(date: _dt.date) -> tuple[str, ...]:
    """Member states on ``date`` (DEU's states only: the UK's exit in 2020 is after the data)."""
    return tuple(s for s in STATES if ACCESSION[s] <= date)


def council_weights(regime: str) -> dict[str, float]:
    """Each state's weighted votes under ``regime`` (under Lisbon there are none: one member, one vote
    in the count quota; the Nice weights are used as the ``votes`` capability)."""
    return dict(AMSTERDAM_WEIGHTS if regime == "amsterdam" else NICE_WEIGHTS)


def qmv_quotas(regime: str, members: tuple[str, ...]) -> dict[str, dict]:
    """The qualified majority of ``regime`` among ``members`` as ``voting.quotas`` (:mod:`sim.domain.voting`).

    Weighted votes under Amsterdam and Nice (the published threshold when the members' votes add up to a
    published total, else the same share of their votes, 71.3 % or 73.9 %) with, under Nice, a majority of
    the members; under Lisbon 55 % of the members and 65 % of the population."""
    if regime == "lisbon":
        return {"members": {"share": 0.55},
                "population": {"weights": {s: POPULATION[s] for s in members}, "share": 0.65}}
    weights = council_weights(regime)
    votes = {s: float(weights[s]) for s in members}
    total = int(round(sum(votes.values())))
    share = 62 / 87 if regime == "amsterdam" else 255 / 345
    threshold = QMV_VOTES.get(total, math.ceil(share * total - 1e-9))
    quotas = {"votes": {"weights": votes, "threshold": float(threshold)}}
    if regime == "nice":
        quotas["members"] = {"threshold": float(len(members) // 2 + 1)}
    return quotas
