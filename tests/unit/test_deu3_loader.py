"""The DEU III loader on the shipped file (data/deu3/): counts, absent actors, saliences, reference points,
procedure and voting rule, capabilities, and bad input as one ConfigError naming file, row and column."""

from __future__ import annotations

import numpy as np
import pytest

from sim.domain.csv_import import NO_STATUS_QUO
from sim.domain.datasets import DEU3_FILE, capabilities, deu3, deu3_issues, deu3_table, proposal_facts, read_deu3
from sim.domain.errors import ConfigError


def test_the_shipped_file_has_141_proposals_364_issues_353_outcomes():
    table = deu3_table()
    assert table["proposal"].nunique() == 141 and len(table) == 364
    assert table["outcome"].notna().sum() == 353 and table["reference"].notna().sum() == 261
    assert (table["procedure"] == "COD").sum() == 216 and (table["rule_code"] == "Unan").sum() == 77
    scenarios = deu3()
    assert len(scenarios) == 141 and sum(s.n_issues for s in scenarios) == 364
    assert len(deu3_issues()) == 364


def test_absent_actors_are_left_out_of_an_issue_and_weigh_nothing_in_the_bundle():
    data = read_deu3()
    issue = next(i for i in data.issues if i.issue == "d00032i1")
    view = next(s for s in deu3_issues(proposals=1) if s.id == "d00032i1")
    assert set(view.actor_ids) == set(issue.positions)  # only the actors with a position
    assert "cy" not in view.actor_ids  # not a member in 2000
    bundle = deu3(proposals=1)[0]
    k = bundle.issue_ids.index("d00032i1")
    for actor in bundle.actor_ids:
        if actor not in issue.positions:
            assert bundle.saliences[bundle.actor_ids.index(actor), k] == 0.0
    fr = bundle.actor_ids.index("fr")
    assert bundle.saliences[fr, k] == pytest.approx(issue.saliences["fr"] / 100)


def test_reference_point_is_the_status_quo_and_a_missing_one_is_marked():
    table = deu3_table().set_index("issue")
    for scenario in deu3_issues(proposals=20):
        issue = scenario.issues[0]
        reference = table.loc[scenario.id, "reference"]
        if np.isnan(reference):
            assert issue.note == NO_STATUS_QUO
        else:
            assert issue.status_quo == reference and issue.note != NO_STATUS_QUO


def test_procedure_and_rule_are_on_the_scenario_with_the_consent_rule():
    first = deu3(proposals=1)[0]  # d00032: co-decision, QMV, January 2000 (EU-15)
    assert first.procedure["procedure"] == "COD" and first.procedure["rule"] == "qmv"
    assert first.procedure["regime"] == "amsterdam"
    assert first.voting.required == ("ep",)
    (votes,) = first.voting.quotas
    assert votes.threshold == 62 and sum(votes.weights) == 87
    consultation = next(s for s in deu3() if s.procedure["procedure"] == "CNS")
    assert "ep" not in consultation.actor_ids and consultation.voting.required == ()
    unanimity = next(s for s in deu3() if s.procedure["rule"] == "unanimity")
    (members,) = unanimity.voting.quotas
    assert members.threshold == len(unanimity.voting.voters)


def test_capability_choices():
    data = read_deu3()
    issues = [i for i in data.issues if i.proposal == "d00032"]
    facts = proposal_facts(issues)
    votes = capabilities(facts, data.gdp, "votes")
    assert votes["de"] == 10 and votes["lu"] == 2 and votes["com"] == 10 and votes["ep"] == 10
    council = capabilities(facts, data.gdp, "votes", "council")
    assert council["com"] == 87
    assert set(capabilities(facts, data.gdp, "equal").values()) == {1.0}
    assert capabilities(facts, data.gdp, "gdp")["de"] == pytest.approx(4.1)
    with pytest.raises(ConfigError, match="benchmark.capability.*allowed: votes, population, equal, gdp"):
        capabilities(facts, data.gdp, "seats")


def test_a_bad_cell_names_the_file_row_and_column(tmp_path):
    lines = DEU3_FILE.read_text().splitlines()
    header = lines[0].split("\t")
    row = lines[2].split("\t")
    row[header.index('"pfr"')] = "140"
    bad = tmp_path / "deu3.tsv"
    bad.write_text("\n".join([lines[0], lines[1], "\t".join(row)] + lines[3:]) + "\n")
    with pytest.raises(ConfigError) as error:
        read_deu3(bad)
    assert str(bad) in str(error.value) and "row 3 (d00032i1), column pfr" in str(error.value)
    assert "allowed: 0-100 or blank" in str(error.value)
    row = lines[2].split("\t")
    row[header.index('"proc"')] = '"OLP"'
    bad.write_text("\n".join([lines[0], lines[1], "\t".join(row)] + lines[3:]) + "\n")
    with pytest.raises(ConfigError, match="column proc.*allowed: COD, CNS"):
        read_deu3(bad)
    with pytest.raises(ConfigError, match="no such file"):
        read_deu3(tmp_path / "missing.tsv")
