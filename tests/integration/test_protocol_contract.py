"""The contract every registered protocol keeps (``sim.engine.protocols.registry.PROTOCOLS``), checked
for each one on shipped scenarios, as a strategy library checks every player against one contract.

For each protocol, :data:`CONTRACTS` states what it promises and under which settings to check it:

* **consent**: an agreement is one every actor whose consent it needs gives, and is individually
  rational for each of them: worth at least its outside option in the round agreed, inside its binding
  red lines, keeping its package rule (docs/explanation/model.md §3). Whose consent is needed is the
  protocol's own: eu and exchange settle on their forecast with every actor's (``Protocol.settle``);
  offers needs the responders its consent rule names (unanimity, veto) or a majority of accepters.
* **permutation invariance**: listing the actors in another order (``Scenario.permuted``) gives the same
  outcome and forecast on every issue and the same utility to every actor (by id) — where the protocol
  promises it: eu draws its random numbers in id-sorted order (model.md §4.1.9) and exchange draws none,
  but both break exact ties between candidate moves by list order, which on jan2022 decides eu's runs
  (expected failures, strict: they fail the suite once they pass). Offers promises no such thing:
  proposers take turns in config order (configs/protocol/offers.yaml); a test checks that it matters.
* **seeded reproducibility**: the same seed gives the identical outcome row; where the settings draw
  random numbers, some seed gives another row.
* **the draws() flag**: ``Protocol.draws(params)`` True means every run draws (a block of seeds is then
  not first checked for being one run repeated, :mod:`sim.runs.batch`); a run that leaves both of the
  model's generators in their seeded state gives the same row whatever the seed (what the batch path
  relies on to repeat it); the settings the contract calls deterministic never draw. ``may_draw(params)``
  is True wherever a run may draw, and a run under settings it calls False never draws.
* **blocks**: ``sim.runs.batch.run_block`` over several seeds gives, bitwise, the rows of each seed
  run alone.

A protocol added to the registry without a contract fails
:func:`test_every_registered_protocol_has_a_contract`.
"""

from __future__ import annotations

import functools
import random
from dataclasses import dataclass
from typing import Callable

import numpy as np
import pandas as pd
import pytest

from sim.engine.model import BargainingModel
from sim.engine.protocols.registry import PROTOCOLS
from sim.kernels.utility import scenario_values
from sim.runs.batch import one_run, run_block
from sim.runs.design import run_seeds
from sim.runs.runner import load_scenario as load
from sim.runs.spec import RunSpec

SCENARIOS = ("jan2022", "classroom/warmup_two_by_two")  # the crisis (4 actors, 11 issues) and a small one
ROUNDS = 12  # offers on the warm-up: who proposes in round 6 (seed, actor order) decides the deal
SEEDS = (0, 1, 2, 3, 4, 5, 6, 7)
load_scenario = functools.cache(load)  # scenarios are immutable: load each once


@dataclass(frozen=True)
class Case:
    """Settings of a protocol to check the contract under."""

    params: dict
    draws: bool  # may a run under these settings draw random numbers? (False: it never does)
    varies_on: str = ""  # a scenario of SCENARIOS on which different seeds give different rows (draws only)

    @property
    def id(self) -> str:
        return "-".join(f"{k}={v}" for k, v in self.params.items()) or "defaults"


@dataclass(frozen=True)
class Contract:
    """What a protocol promises: the settings to check, whose consent an agreement needs (the actors
    it must satisfy, read off a finished model that agreed) and whether actor order is irrelevant."""

    cases: tuple[Case, ...]
    consenting: Callable[[BargainingModel], np.ndarray]
    order_free: bool = True
    order_matters_because: str = ""
    order_ties: tuple[tuple[str, str], ...] = ()  # (case id, scenario): exact ties make actor order matter
    record_events: bool = False  # does ``consenting`` read the event log?


def everyone(model: BargainingModel) -> np.ndarray:
    """eu and exchange: the forecast is an agreement only with every actor's consent (Protocol.settle)."""
    return np.ones(model.negotiation.n_actors, dtype=bool)


def offer_consent(model: BargainingModel) -> np.ndarray:
    """offers: read off the event of the agreed offer. Under unanimity and veto every responder whose
    consent the rule needs accepted; under majority more than ``quota`` x N actors accepted, proposer
    included. Returns the actors whose consent made the agreement (the proposer's included)."""
    scenario, params = model.negotiation, model.protocol.params
    events = model.events_table()
    agreed = events[(events["kind"] == "offer") & events["agreement"].astype(bool)]
    assert len(agreed) == 1, "one agreed offer, and it ends the talks"
    row = agreed.iloc[0]
    np.testing.assert_array_equal([row[f"offer_{i}"] for i in scenario.issue_ids], model.outcome().bundle)
    answers = np.array([row[f"response_{a}"] for a in scenario.actor_ids])
    consenting = np.isin(answers, ["accept", "proposer"])
    assert (answers == "proposer").sum() == 1
    if params.consent == "majority":
        assert consenting.sum() >= int(np.floor(params.quota * scenario.n_actors)) + 1, answers
        return consenting
    needed = ~np.isin(answers, ["not_needed", "walked_out"])
    assert consenting[needed].all(), answers
    if params.consent == "unanimity":
        assert needed.all(), answers
    return needed


CONTRACTS: dict[str, Contract] = {
    "eu": Contract(
        cases=(Case({}, draws=True, varies_on="jan2022"),  # standard: every pair's conflict drawn each round
               Case({"variant": "scholz"}, draws=False),
               Case({"variant": "scholz", "shock_probability": 0.3}, draws=True, varies_on="jan2022")),
        consenting=everyone,
        order_ties=(("defaults", "jan2022"), ("variant=scholz-shock_probability=0.3", "jan2022"))),
    "offers": Contract(
        cases=(Case({}, draws=False),  # round robin, exact beliefs
               Case({"order": "recognition"}, draws=True, varies_on="classroom/warmup_two_by_two"),
               Case({"order": "setter"}, draws=False),  # the first actor proposes every round
               Case({"belief_noise": 0.1}, draws=True, varies_on="classroom/warmup_two_by_two"),
               Case({"consent": "veto"}, draws=False),
               Case({"consent": "majority"}, draws=False)),
        consenting=offer_consent, record_events=True, order_free=False,
        order_matters_because="proposers take turns in config order (order=round_robin)"),
    "exchange": Contract(
        cases=(Case({}, draws=False), Case({"max_per_round": 1}, draws=False)),
        consenting=everyone),
}

CASES = [(name, case) for name in sorted(PROTOCOLS) if name in CONTRACTS for case in CONTRACTS[name].cases]
CASE_IDS = [f"{name}-{case.id}" for name, case in CASES]


def spec(protocol: str, case: Case, scenario, seed: int = 0, record_events: bool = False) -> RunSpec:
    if isinstance(scenario, str):
        scenario = load_scenario(scenario)
    return RunSpec(scenario, protocol, params=dict(case.params), rounds=ROUNDS, seed=seed,
                   record_rounds=False, record_events=record_events)


def same_rows(a: list[dict], b: list[dict]) -> bool:
    try:
        pd.testing.assert_frame_equal(pd.DataFrame(a), pd.DataFrame(b), check_exact=True)
    except AssertionError:
        return False
    return True


def untouched(model: BargainingModel, seed: int) -> bool:
    """Both of the model's generators are still in the state its seed gave them (Mesa seeds numpy's
    ``default_rng(seed)`` and the standard library's ``random.Random(seed)``)."""
    return (model.rng.bit_generator.state == np.random.default_rng(seed).bit_generator.state
            and model.random.getstate() == random.Random(seed).getstate())


# ---- the contract table itself ------------------------------------------------------------------------
def test_every_registered_protocol_has_a_contract():
    assert set(CONTRACTS) == set(PROTOCOLS), "state the contract of every registered protocol in CONTRACTS"
    for name, contract in CONTRACTS.items():
        assert contract.cases, name
        for case in contract.cases:
            assert not case.draws or case.varies_on in SCENARIOS, (name, case)
            PROTOCOLS[name].validate(spec(name, case, SCENARIOS[0]).params)  # the settings are valid
        assert contract.order_free or contract.order_matters_because, name


# ---- consent -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("protocol", sorted(PROTOCOLS))
def test_an_agreement_has_the_consent_it_needs_and_is_individually_rational(protocol):
    contract = CONTRACTS[protocol]
    agreements = 0
    for case in contract.cases:
        for name in SCENARIOS:
            scenario = load_scenario(name)
            for seed in (0, 1, 2, 3):
                model = spec(protocol, case, scenario, seed, contract.record_events).build().run()
                outcome = model.outcome()
                if not outcome.agreement:
                    assert outcome.breakdown_cause and outcome.causes[0] in outcome.breakdown_cause
                    continue
                agreements += 1
                where = (case.id, name, seed)
                needed = contract.consenting(model)
                bundle = outcome.bundle
                t = model.round if outcome.round_index is None else outcome.round_index
                values = scenario_values(scenario, bundle, t)
                floor = model.disagreement_at(t)
                assert np.all(values[needed] >= floor[needed] - 1e-9), (where, values, floor)
                if scenario.rules.red_lines:
                    inside = scenario.red_line_mask(bundle[None])[:, 0, :].all(axis=1)
                    assert inside[needed].all(), (where, scenario.crossed_red_lines(bundle))
                if scenario.rules.package:
                    broken = np.isin(scenario.actor_ids, scenario.broken_packages(bundle))
                    assert not broken[needed].any(), (where, scenario.broken_packages(bundle))
                assert np.array_equal(scenario.snap(bundle[None])[0], bundle), where  # on the scales' levels
                assert np.all((bundle >= scenario.lower) & (bundle <= scenario.upper)), where
    assert agreements >= 3, f"{protocol}: too few agreements to check the rule on ({agreements})"


# ---- actor order -------------------------------------------------------------------------------------
TIES = "exact ties between candidate moves are broken by list order (docs/explanation/model.md §4.1.9)"
ORDER_FREE = [pytest.param(name, case, scenario, id=f"{name}-{case.id}-{scenario}",
                           marks=[pytest.mark.xfail(strict=True, reason=TIES)]
                           if (case.id, scenario) in CONTRACTS[name].order_ties else [])
              for name, case in CASES if CONTRACTS[name].order_free for scenario in SCENARIOS]


def same_outcome_by_id(a: dict, b: dict, scenario) -> bool:
    keys = ([f"outcome_{i}" for i in scenario.issue_ids] + [f"bundle_{i}" for i in scenario.issue_ids]
            + [f"utility_{a}" for a in scenario.actor_ids])
    numbers = np.allclose([a[k] for k in keys], [b[k] for k in keys], rtol=0, atol=1e-9, equal_nan=True)
    causes = set(a["breakdown_causes"].split("; ")) == set(b["breakdown_causes"].split("; "))
    return numbers and causes and (a["agreement"], a["rounds"]) == (b["agreement"], b["rounds"])


@pytest.mark.parametrize("protocol, case, name", ORDER_FREE)
def test_permuting_the_actors_gives_the_same_outcome_and_utilities(protocol, case, name):
    scenario = load_scenario(name)
    n = scenario.n_actors
    orders = {tuple(reversed(range(n))), tuple(np.roll(range(n), 1))}
    for seed in (0, 5):
        base = one_run(spec(protocol, case, scenario), seed)
        for order in orders:
            permuted = one_run(spec(protocol, case, scenario.permuted(list(order))), seed)
            assert same_outcome_by_id(base, permuted, scenario), (order, seed)


@pytest.mark.parametrize("protocol", [name for name in sorted(PROTOCOLS) if not CONTRACTS[name].order_free])
def test_a_protocol_whose_outcome_depends_on_actor_order_does_depend_on_it(protocol):
    """The contract's exemption is real: under its first settings some shipped scenario's outcome changes
    with the actors' order (else the protocol is order-free and its contract should say so)."""
    case = CONTRACTS[protocol].cases[0]
    changed = []
    for name in SCENARIOS:
        scenario = load_scenario(name)
        base = one_run(spec(protocol, case, scenario), 0)
        reversed_order = list(reversed(range(scenario.n_actors)))
        permuted = one_run(spec(protocol, case, scenario.permuted(reversed_order)), 0)
        changed.append(not same_outcome_by_id(base, permuted, scenario))
    assert any(changed), CONTRACTS[protocol].order_matters_because


# ---- seeds -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("protocol, case", CASES, ids=CASE_IDS)
def test_the_same_seed_gives_the_same_row_and_draws_make_seeds_differ(protocol, case):
    for name in SCENARIOS:
        run = spec(protocol, case, name)
        rows = [one_run(run, seed) for seed in SEEDS]
        assert same_rows(rows, [one_run(run, seed) for seed in SEEDS]), name
        without_seed = [{**row, "seed": 0} for row in rows]
        differ = not same_rows(without_seed, [without_seed[0]] * len(SEEDS))
        if not case.draws:
            assert not differ, name
        elif name == case.varies_on:
            assert differ, f"{name}: every seed gives the same row"


@pytest.mark.parametrize("protocol, case", CASES, ids=CASE_IDS)
@pytest.mark.parametrize("name", SCENARIOS)
def test_the_draws_flag_and_untouched_generators(protocol, case, name):
    cls = PROTOCOLS[protocol]
    run = spec(protocol, case, name)
    for seed in (3, 4):
        model = run.with_seed(seed).build().run()
        drew = not untouched(model, seed)
        if cls.draws(run.params):
            assert drew, "draws() says every run draws, but this one did not"
        if not case.draws:
            assert not drew and not cls.draws(run.params)
        else:  # a sensitivity analysis must know that the seed may matter (sim.analysis.sensitivity.seed_noise)
            assert cls.may_draw(run.params)
        if not cls.may_draw(run.params):
            assert not drew, "may_draw() says no run draws, but this one did"
        if not drew:  # then the seed cannot matter: sim.runs.batch repeats the row for other seeds
            assert same_rows([{**run.with_seed(seed).row(model), "seed": 0}],
                             [{**one_run(run, other), "seed": 0} for other in (seed + 10,)])


# ---- blocks ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("protocol, case", CASES, ids=CASE_IDS)
@pytest.mark.parametrize("name", SCENARIOS)
def test_a_block_of_seeds_gives_bitwise_the_rows_of_each_seed_alone(protocol, case, name):
    run = spec(protocol, case, name)
    seeds = [int(s) for s in run_seeds(17, 5)]
    together = pd.DataFrame(run_block(run, seeds))
    alone = pd.DataFrame([one_run(run, seed) for seed in seeds])
    pd.testing.assert_frame_equal(together, alone, check_exact=True)
    assert list(together["seed"]) == seeds
