"""Scenario building, validation (one clear error per mistake) and CSV import."""

from __future__ import annotations

import numpy as np
import pytest

import sim
from sim.domain.errors import ConfigError
from sim.domain.csv_import import NO_STATUS_QUO
from sim.domain.scenario import scenario_from_csv
from sim.domain.scenario import scenario_from_config

from tests.support import REPO

BASE = {
    "id": "t",
    "issues": {"a": {"label": "A", "status_quo": 50}, "b": {"label": "B", "status_quo": 20,
                                                              "levels": {"low": 0, "mid": 50, "high": 100}}},
    "actors": {
        "x": {"capability": 1.0, "position": {"a": 0, "b": 100}, "salience": {"a": 1, "b": 0.5}},
        "y": {"capability": 0.5, "position": {"a": 100, "b": 0}, "salience": {"a": 0.2, "b": 1},
              "veto": ["b"], "bloc": "east",
              "outside_option": {"kind": "war", "optimism": 1.5, "cost": 0.1}},
    },
}


def build(**changes):
    import copy

    data = copy.deepcopy(BASE)
    for dotted, value in changes.items():
        node = data
        *path, last = dotted.split("__")
        for key in path:
            node = node[key]
        if value is KeyError:
            del node[last]
        else:
            node[last] = value
    return scenario_from_config(data, source="test.yaml")


def test_arrays_are_aligned_and_read_only():
    s = build()
    assert s.positions.tolist() == [[0, 100], [100, 0]]
    assert s.capabilities.tolist() == [1.0, 0.5]
    assert s.vetoes.tolist() == [[False, False], [False, True]]
    np.testing.assert_allclose(s.weights.sum(axis=1), 1.0)
    with pytest.raises(ValueError):
        s.positions[0, 0] = 3.0
    assert s.issue("b").snap(np.array([10.0, 30.0, 80.0])).tolist() == [0, 50, 100]
    assert s.issue("b").level_label(49) == "mid"


@pytest.mark.parametrize("changes, key, words", [
    ({"actors__x__capability": -1}, "scenario.actors.x.capability", "> 0"),
    ({"actors__x__capability": 0}, "scenario.actors.x.capability", "> 0"),
    ({"actors__x__capability": float("nan")}, "scenario.actors.x.capability", "finite"),
    ({"actors__x__salience__a": 1.5}, "scenario.actors.x.salience.a", "[0, 1]"),
    ({"actors__x__salience__a": -0.1}, "scenario.actors.x.salience.a", "[0, 1]"),
    ({"actors__x__position__a": 101}, "scenario.actors.x.position.a", "[0, 100]"),
    ({"actors__x__position__zzz": 1}, "scenario.actors.x.position.zzz", "unknown issue"),
    ({"actors__x__position__a": KeyError}, "scenario.actors.x.position.a", "missing"),
    ({"actors__x__position__a": "ten"}, "scenario.actors.x.position.a", "not a number"),
    ({"actors__y__veto": ["nope"]}, "scenario.actors.y.veto", "allowed: a, b"),
    ({"actors__y__strategy": "bogus"}, "scenario.actors.y.strategy", "allowed:"),
    ({"actors__y__outside_option__kind": "peace"}, "scenario.actors.y.outside_option.kind", "allowed"),
    ({"actors__y__outside_option__cost": -1}, "scenario.actors.y.outside_option.cost", ">= 0"),
    ({"actors__y__outside_option__opponents": ["ghost"]}, "scenario.actors.y.outside_option.opponents",
     "unknown actor"),
    ({"actors__y__discount_factor": 0}, "scenario.actors.y.discount_factor", "(0, 1]"),
    ({"actors__x__colour": "red"}, "scenario.actors.x.colour", "unknown key"),
    ({"issues__a__status_quo": 150}, "scenario.issues.a.status_quo", "scale"),
    ({"issues__a__scale": [10, 0]}, "scenario.issues.a.scale", "upper > lower"),
    ({"issues__a__scale": [0]}, "scenario.issues.a.scale", "two numbers"),
    ({"issues__a__scale": [0, 1e308]}, "scenario.issues.a.scale", "at most 1e+12 apart"),
    ({"actors__y": KeyError}, "scenario.actors", "at least two actors"),
])
def test_each_mistake_names_file_and_key(changes, key, words):
    with pytest.raises(ConfigError) as caught:
        build(**changes)
    message = str(caught.value)
    assert message.startswith("test.yaml: ") and key in message and words in message
    assert "\n" not in message


def test_war_outside_option_needs_an_opponent():
    with pytest.raises(ConfigError, match="opposing side"):
        build(actors__x__bloc="east")  # both in one bloc, no opponents listed


def test_load_scenario_with_overrides_validates():
    s = sim.load_scenario("ec_emissions", {"actors.france.salience.emission_standards": 0.9})
    assert s.actor("france").salience["emission_standards"] == 0.9
    with pytest.raises(ConfigError, match="capability"):
        sim.load_scenario("ec_emissions", {"actors.france.capability": -1})
    with pytest.raises(ConfigError, match="unknown scenario"):
        sim.load_scenario("atlantis")


def write(path, text):
    path.write_text(text)
    return path


def test_csv_with_issue_column(tmp_path):
    csv = write(tmp_path / "deu.csv",
                "Issue,Actor,Capability,Position,Salience\n"
                "tax,Germany,10,20,0.8\ntax,France,8,70,0.5\ntax,Status Quo,,40,\n"
                "fish,Germany,10,90,0.2\nfish,France,8,10,0.9\n")
    s = scenario_from_csv(csv, status_quo={"fish": 30})
    assert s.issue_ids == ("tax", "fish") and s.actor_ids == ("germany", "france")
    assert s.status_quo.tolist() == [40, 30]
    assert s.positions.tolist() == [[20, 90], [70, 10]]


def test_csv_directory_one_file_per_issue(tmp_path):
    folder = tmp_path / "data"
    folder.mkdir()
    write(folder / "emissions.csv", "Actor,Capability,Position,Salience\nA,1,4,0.5\nB,2,10,1\n"
                                    "Status Quo,,10,\n")
    write(folder / "budget.csv", "Actor,Capability,Position,Salience\nA,1,0,1\nB,2,60,0.3\n"
                                 "Status Quo,,50,\n")
    s = scenario_from_csv(folder)
    assert set(s.issue_ids) == {"emissions", "budget"}
    assert s.capabilities.tolist() == [1, 2]


@pytest.mark.parametrize("text, words", [
    ("Actor,Capability,Position\nA,1,5\n", "missing column(s) Salience"),
    ("Actor,Capability,Position,Salience\nA,one,5,0.5\nB,1,5,0.5\nStatus Quo,,5,\n",
     "Capability (row 2): 'one' is not a number"),
    ("Actor,Capability,Position,Salience\nA,1,5,1.5\nB,1,5,0.5\nStatus Quo,,5,\n", "1.5 is outside [0, 1]"),
    ("Actor,Capability,Position,Salience\nA,1,500,0.5\nB,1,5,0.5\nStatus Quo,,5,\n", "outside the scale"),
    ("Actor,Capability,Position,Salience\nA,1,5,0.5\nA,1,6,0.5\nStatus Quo,,5,\n", "appears twice"),
])
def test_csv_mistakes_are_one_line(tmp_path, text, words):
    csv = write(tmp_path / "bad.csv", text)
    with pytest.raises(ConfigError) as caught:
        scenario_from_csv(csv)
    assert words in str(caught.value) and str(csv) in str(caught.value)
    assert "\n" not in str(caught.value)


def test_permuted_and_with_arrays_roundtrip():
    s = build()
    p = s.permuted([1, 0])
    assert p.actor_ids == ("y", "x") and p.positions.tolist() == [[100, 0], [0, 100]]
    changed = s.with_arrays(capabilities=np.array([2.0, 3.0]))
    assert changed.capabilities.tolist() == [2.0, 3.0] and s.capabilities.tolist() == [1.0, 0.5]


def test_plain_bdm_csv_without_status_quo_imports_with_a_marked_placeholder():
    scenario = scenario_from_csv(REPO / "tests" / "data" / "ExampleActors.csv")
    issue = scenario.issues[0]
    assert scenario.n_actors == 10 and issue.note == NO_STATUS_QUO
    assert issue.status_quo == 7.0  # the c·s-weighted median of the EC emissions case
