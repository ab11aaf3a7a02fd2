"""A person in one seat (classroom play-as): the offers protocol pauses for the seat and resumes the
same round; an app session is the command-line run when nobody plays a seat; export and debrief."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from sim.classroom import (ClassroomModel, Tuning, export, offer_table, overrides, scenarios,
                           seat_view, utilities_by_round)
from sim.domain.errors import ConfigError
from sim.runs.runner import load_scenario, run
from sim.runs.spec import protocol_defaults
from tests.support import experiment, play_to_the_end


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
            seated.respond(seated.actors[seated.seat].accepts(seated.protocol.pending_offer(),
                                                              seated.protocol.thresholds(t)[seated.seat]))
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
        assert table.set_index("party").loc["ukraine", "answer"] == "your answer?"
        assert table.set_index("party").loc["ukraine", "name"] == "Ukraine (you)"
        model.respond(False)
        assert model.waiting == "" and model.events_table()["response_ukraine"].iloc[-1] == "reject"
    model.step()
    assert model.waiting == "propose" and model.round == 3
    scenario = model.negotiation
    bundle = scenario.positions[model.seat].copy()
    bundle[0] = 33.0  # enlargement is discrete: snapped to the nearest level (25, neutrality)
    view = seat_view(model, bundle)
    assert list(view["party"]) == ["United States", "NATO", "Russia", "Ukraine (you)"]
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


@pytest.mark.subprocess
def test_export_writes_a_folder_and_a_report_comparing_the_seat_with_varied_model_runs(tmp_path):
    model = ClassroomModel(play_as="ukraine", seed=2)
    play_to_the_end(model, accept=True)  # accept anything: a bad negotiator
    report = export(model, tmp_path, replicates=6)
    folder = report.parent
    assert folder.name.endswith("_ukraine")
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["completed"] and manifest["play_as"] == "ukraine" and manifest["game"] == "finished"
    assert manifest["command"] == "python -m experiments.run scenario=classroom/jan2022 protocol=offers seed=2 rounds=20"
    runs = pd.read_parquet(folder / "runs.parquet")
    assert runs["play_as"].iloc[0] == "ukraine" and runs["game"].iloc[0] == "finished"
    replicates = pd.read_parquet(folder / "replicates.parquet")
    assert len(replicates) == 6 and replicates["seed"].nunique() == 6
    assert (replicates["belief_noise"] == 0.05).all()
    assert replicates["utility_ukraine"].nunique() > 1  # the distribution means something
    text = report.read_text()
    assert "Your seat: ukraine played by a person" in text and "<script" not in text
    assert "http://" not in text and "https://" not in text  # nothing to fetch: opens offline
    human = runs["utility_ukraine"].iloc[0]
    values = replicates["utility_ukraine"]
    assert f"Your utility {human:.3f} is" in text and f"average {values.mean():.3f}" in text
    assert f"you did better than {(values < human - 1e-9).mean():.0%} of its runs" in text
    assert text.count("data:image/png") >= 2  # offers by round, the replicates' histogram
    _assert_prints_on(report, pages=2)


def _assert_prints_on(page, pages: int) -> None:
    """Print an HTML file to PDF in Chromium (where installed) and check its page count."""
    import os
    import re
    import subprocess
    from pathlib import Path

    if not Path("/usr/bin/chromium").exists():
        if os.environ.get("CLASSROOM_BROWSER_TEST") == "required":
            pytest.fail("chromium not installed: cannot print the report")
        return
    pdf = page.with_suffix(".pdf")
    subprocess.run(["/usr/bin/chromium", "--headless", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer",
                    f"--print-to-pdf={pdf}", page.as_uri()], capture_output=True, timeout=120, check=True)
    count = len(re.findall(rb"/Type\s*/Page[^s]", pdf.read_bytes()))
    assert 1 <= count <= pages, count


@pytest.mark.subprocess  # the export's manifest asks git for the commit
def test_an_unfinished_game_is_exported_as_in_progress_and_not_compared(tmp_path):
    model = ClassroomModel(play_as="russia", seed=2)
    model.step()
    model.respond(False)
    model.step()  # round 2 waits for Russia's answer
    report = export(model, tmp_path, replicates=6)
    runs = pd.read_parquet(report.parent / "runs.parquet")
    assert runs["game"].iloc[0] == "in progress" and not runs["agreement"].iloc[0]
    assert runs["breakdown_cause"].iloc[0] == "in progress at round 2"
    text = report.read_text()
    assert "in progress at round 2" in text and "round limit was reached" not in text
    assert "not compared with the model agent" in text and not (report.parent / "replicates.parquet").exists()


@pytest.mark.subprocess
def test_reproduce_explains_a_folder_with_a_human_seat(tmp_path):
    model = ClassroomModel(play_as="ukraine", seed=2)
    play_to_the_end(model, accept=False)
    folder = export(model, tmp_path, replicates=3).parent
    done = experiment("reproduce", str(folder))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "a person played ukraine" in done.stdout and "model agents in every seat" in done.stdout
    assert "replicates.parquet: 3 rows, identical" in done.stdout  # the model agent's replicates
    assert done.stdout.strip().endswith("reproduced: identical")
    saved = pd.read_parquet(folder / "replicates.parquet")
    saved.loc[0, "utility_ukraine"] += 0.5  # a changed number is caught
    saved.to_parquet(folder / "replicates.parquet", index=False)
    done = experiment("reproduce", str(folder))
    assert done.returncode == 1 and "1 of 3 rows differ" in done.stdout and "utility_ukraine: saved" in done.stdout
