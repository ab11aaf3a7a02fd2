"""A person in one seat (classroom play-as): the offers protocol pauses for the seat and resumes the
same round; an app session is the command-line run when nobody plays a seat; export and debrief."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from sim.classroom import (ClassroomModel, Tuning, export, offer_table, overrides, scenarios,
                           seat_view, utilities_by_round)
from sim.config import ConfigError
from sim.runner import load_scenario, protocol_defaults, run


def test_an_app_session_without_a_seat_is_the_command_line_run():
    model = ClassroomModel(scenario="classroom/jan2022", protocol="offers", seed=3)
    assert model.command == ["scenario=classroom/jan2022", "protocol=offers", "seed=3", "rounds=20"]
    model.run()
    cli = run(load_scenario("classroom/jan2022"), protocol="offers", protocol_params=protocol_defaults("offers"),
              seed=3, rounds=20)
    assert model.round == int(cli.runs["rounds"].iloc[0])
    expected = cli.model.outcome().bundle
    np.testing.assert_array_equal(model.outcome().bundle, expected)


def test_seat_pauses_the_round_and_resumes_it_without_new_random_draws():
    # recognition order draws the proposer from the RNG: waiting for the seat must not redraw it
    seated = ClassroomModel(scenario="classroom/jan2022", seed=5, tuning=Tuning(), play_as="ukraine")
    seated.protocol.params.order = "recognition"
    free = ClassroomModel(scenario="classroom/jan2022", seed=5)
    free.protocol.params.order = "recognition"
    proposers = []
    for _ in range(6):
        seated.step()
        for _ in range(3):  # pressing Step while the seat must act changes nothing
            seated.step()
        if seated.waiting == "respond":
            # answer as the model agent would: the run must then equal the model-only run
            t = seated.round
            seated.respond(seated.actors[seated.seat].accepts(seated.protocol.pending,
                                                              seated.protocol._threshold(seated.seat, t)))
        assert seated.waiting != "propose", "pick a seed at which ukraine does not propose in six rounds"
        free.step()
        proposers.append(seated.protocol.current_proposer)
        assert seated.round == free.round
        assert seated.protocol.current_proposer == free.protocol.current_proposer
    assert len(set(proposers)) > 1


def test_rejecting_three_offers_then_proposing_as_ukraine():
    model = ClassroomModel(play_as="ukraine")
    for expected in ("usa", "nato", "russia"):
        model.step()
        assert model.waiting == "respond"
        table = offer_table(model)
        assert table["proposer"].iloc[0] == expected
        assert table.set_index("party").loc["ukraine", "response"] == "your answer?"
        model.respond(False)
        assert model.waiting == "" and model.events_table()["response_ukraine"].iloc[-1] == "reject"
    model.step()
    assert model.waiting == "propose" and model.round == 3
    scenario = model.negotiation
    bundle = scenario.positions[model.seat].copy()
    bundle[0] = 33.0  # enlargement is discrete: snapped to the nearest level (25, neutrality)
    view = seat_view(model, bundle)
    assert list(view["party"]) == ["usa", "nato", "russia", "ukraine (you)"]
    assert set(view["verdict"][:3]) <= {"likely accepts", "likely rejects", "consent not needed"}
    model.propose(bundle)
    last = model.events_table().iloc[-1]
    assert last["proposer"] == "ukraine" and last["round"] == 4 and last["offer_enlargement"] == 25.0
    assert len(utilities_by_round(model)) == 4
    with pytest.raises(RuntimeError, match="not the seat's turn"):
        model.protocol.propose(bundle)


def test_a_proposal_the_model_accepts_ends_in_agreement():
    # warm-up: two actors, two issues; play "west" and offer Russia its own ideal point
    model = ClassroomModel(scenario="classroom/warmup_two_by_two", play_as="west")
    while model.waiting != "propose":
        model.step()
        if model.waiting == "respond":
            model.respond(False)
    other = 1 - model.seat
    model.propose(model.negotiation.positions[other])
    assert not model.running and model.outcome().agreement
    row = model.events_table().iloc[-1]
    assert row["agreement"] and row[f"response_{model.negotiation.actor_ids[other]}"] == "accept"


def test_bad_choices_name_the_key_and_the_allowed_values():
    with pytest.raises(ConfigError, match="play_as: unknown actor 'mars'; allowed: usa, nato, russia, ukraine"):
        ClassroomModel(play_as="mars")
    with pytest.raises(ConfigError, match="play_as: a person can play a seat under protocol offers, not eu"):
        ClassroomModel(protocol="eu", play_as="russia")
    with pytest.raises(ConfigError, match="scenario: unknown scenario 'nope'"):
        overrides("nope")
    with pytest.raises(ConfigError, match="seed: 'x' is not a whole number"):
        ClassroomModel(seed="x")
    with pytest.raises(RuntimeError, match="cannot play a human seat"):
        ClassroomModel(play_as="usa").run()


def test_tuning_becomes_command_line_overrides_and_changes_the_model():
    tuning = Tuning()
    tuning.set("classroom/jan2022", "actors.russia.capability", 0.5)
    tuning.set("classroom/jan2022", "actors.russia.salience.enlargement", 0.2)
    tuning.set("classroom/warmup_two_by_two", "actors.west.capability", 0.9)  # other scenario: not applied
    model = ClassroomModel(tuning=tuning)
    assert model.command[-2:] == ["scenario.actors.russia.capability=0.5",
                                  "scenario.actors.russia.salience.enlargement=0.2"]
    russia = model.negotiation.actor_ids.index("russia")
    assert model.negotiation.capabilities[russia] == 0.5
    assert model.negotiation.saliences[russia, 0] == 0.2
    tuning.set("classroom/jan2022", "actors.russia.capability", -1)
    with pytest.raises(ConfigError, match="capability"):
        ClassroomModel(tuning=tuning)


def test_the_scenario_suggests_the_round_limit():
    assert ClassroomModel(scenario="classroom/deadline_pressure").max_rounds == 8
    assert ClassroomModel(scenario="classroom/deadline_pressure", rounds=12).max_rounds == 12
    assert "classroom/jan2022" == scenarios()[0] and "jan2022" in scenarios()


def test_export_writes_a_folder_and_a_report_comparing_the_seat_with_the_model(tmp_path):
    model = ClassroomModel(play_as="ukraine", seed=2)
    while model.running:
        model.step()
        if model.waiting == "respond":
            model.respond(True)  # accept anything: a bad negotiator
        elif model.waiting == "propose":
            model.propose(model.negotiation.positions[model.seat])
    report = export(model, tmp_path, replicates=4)
    folder = report.parent
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["completed"] and manifest["play_as"] == "ukraine"
    assert manifest["command"] == "python -m experiments.run scenario=classroom/jan2022 protocol=offers seed=2 rounds=20"
    runs = pd.read_parquet(folder / "runs.parquet")
    assert runs["play_as"].iloc[0] == "ukraine"
    text = report.read_text()
    assert "Your seat: ukraine played by a person" in text
    assert "the model agent, all replicates" in text and "<script" not in text
    assert "http://" not in text and "https://" not in text  # nothing to fetch: opens offline
    human = runs["utility_ukraine"].iloc[0]
    assert f"<td>you, playing ukraine</td>\n      <td>1</td>\n      <td>{'yes' if runs['agreement'].iloc[0] else 'no'}</td>\n      <td>{human:.2f}</td>" in text
    assert f"Your utility {human:.3f} is" in text
