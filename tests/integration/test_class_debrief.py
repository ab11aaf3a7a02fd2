"""The class debrief on a class folder a real class could leave: games played through the app's sessions
(some ending in war, whose outcomes are empty), the teacher's watch-only demo, a game with changed actors,
the same game exported twice, a game exported before its end, and two seats of one seed (whose model
agents' runs are the same runs). Built once, by real sessions and exports (sim/analysis/pooling.py,
sim/report/debrief/pooled.py)."""

from __future__ import annotations

import html
import json
import re
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.support import experiment
from tests.support.classroom import play_to_end

pytestmark = [pytest.mark.subprocess, pytest.mark.slow]  # experiments.debrief; the exports ask git; ~80 s on 2 cores

REPLICATES = 3


@pytest.fixture(scope="module")
def klass(tmp_path_factory) -> dict:
    from sim.classroom import export
    from sim.classroom.session import Session

    root = tmp_path_factory.mktemp("results")

    def game(seat: str, seed: int, accept: bool, tune: tuple | None = None) -> Session:
        session = Session(class_name="3ème-B", root=root, replicates=REPLICATES)
        session.choose("seed", str(seed))
        if tune:
            session.tuning.set(session.chosen.scenario, *tune)
        session.reset()
        session.choose("play_as", seat)
        play_to_end(session, accept)
        return session

    played = {}
    for seat, seed, accept in (("ukraine", 1, False), ("russia", 1, True), ("usa", 2, True), ("nato", 3, False)):
        played[seat] = game(seat, seed, accept).export().parent
    demo = game("nobody", 1, True).export().parent
    tuned = game("russia", 4, True, ("actors.russia.outside_option.optimism", 4.0)).export().parent
    twice = game("usa", 5, True)  # exported twice (what the app's double click did before it kept one)
    first = export(twice.model, root / "3ème-B", replicates=REPLICATES, session=twice.id).parent
    time.sleep(1.05)
    second = export(twice.model, root / "3ème-B", replicates=REPLICATES, session=twice.id).parent
    unfinished = Session(class_name="3ème-B", root=root, replicates=REPLICATES)
    unfinished.choose("play_as", "usa")
    unfinished.step()
    running = unfinished.export().parent
    return {"root": root / "3ème-B", "played": [*played.values(), first], "demo": demo, "tuned": tuned,
            "duplicate": second, "first": first, "running": running}


def _text(path: Path) -> str:
    return path.read_text()


def _runs(folders) -> pd.DataFrame:
    return pd.concat([pd.read_parquet(f / "runs.parquet").assign(folder=f.name) for f in folders], ignore_index=True)


def test_the_class_debrief_pools_the_games_students_played_and_lists_the_rest(klass):
    made = experiment("debrief", "--class", str(klass["root"]))
    assert made.returncode == 0, made.stderr
    text = _text(klass["root"] / "class-debrief.html")
    runs = _runs(klass["played"])
    assert (runs["ending"] == "war").any() and runs["agreement"].any()  # the cases this test is about
    count = len(runs)
    assert "9 exported games from" in text and f", {count} pooled" in text
    assert (f"<td>the class (finished games)</td>\n      <td>{count}</td>\n      "
            f"<td>{runs['agreement'].mean():.0%}</td>") in text
    apart = text.split("Listed apart")[1].split("</table>")[0]
    for key, why in (("demo", "watch-only game (nobody in a seat: a demo)"),
                     ("tuned", "changed actors: scenario.actors.russia.outside_option.optimism=4"),
                     ("duplicate", f"duplicate export of {klass['first'].name}")):
        assert f"<td>{klass[key].name}</td>" in apart and html.escape(why) in apart, key
    assert f"Not pooled (exported before the end): {klass['running'].name}" in text
    seats = text.split("The seats: the class")[1].split("</table>")[0]
    assert "<td>nobody</td>" not in seats and "<td>russia</td>\n      <td>1</td>" in seats  # the tuned russia is out


def test_model_runs_are_counted_once_and_replicates_is_honoured(klass):
    runs = _runs(klass["played"])
    settings = {(c, s) for c, s in zip(runs["config_hash"], runs["seed"])}
    assert len(settings) == len(runs) - 1  # ukraine and russia played seed 1: the same model agents' runs
    saved = pd.concat([pd.read_parquet(f / "replicates.parquet") for f in klass["played"]], ignore_index=True)
    distinct = saved.drop_duplicates(subset=["seed", "config_hash"])
    assert len(distinct) == REPLICATES * len(settings) < len(saved)
    for replicates, expected in ((None, REPLICATES), (2, 2), (REPLICATES + 2, REPLICATES + 2)):
        out = klass["root"] / f"debrief-{replicates}.html"
        args = [] if replicates is None else ["--replicates", str(replicates)]
        made = experiment("debrief", "--class", str(klass["root"]), "--out", str(out), *args)
        assert made.returncode == 0, made.stderr
        total = expected * len(settings)
        assert f"<td>the model agents in every seat (distinct runs)</td>\n      <td>{total}</td>" in _text(out), replicates
        seats = _text(out).split("The seats: the class")[1].split("</table>")[0]
        assert f"<td>{total}</td>\n    </tr>" in seats


def test_war_endings_leave_the_issues_that_moved_and_the_per_issue_chart(klass):
    made = experiment("debrief", "--class", str(klass["root"]))
    assert made.returncode == 0, made.stderr
    text = _text(klass["root"] / "class-debrief.html")
    runs = _runs(klass["played"])
    saved = pd.concat([pd.read_parquet(f / "replicates.parquet") for f in klass["played"]], ignore_index=True)
    issues = pd.read_parquet(klass["played"][0] / "issues.parquet")
    every = pd.concat([runs, saved], ignore_index=True)
    assert every[[f"outcome_{i}" for i in issues["issue"]]].isna().all(axis=1).any()  # war: no outcome
    moved = [label for issue, label, sq in zip(issues["issue"], issues["label"], issues["status_quo"])
             if (np.abs(every[f"outcome_{issue}"].dropna() - sq) > 1e-9).any()]
    assert moved  # a deal moved some issue
    line = re.search(r"moved these off the status quo[^<]*", text)
    for label in moved:
        assert line is None or html.escape(label) not in line.group(0), label
    assert 'alt="Agreed outcomes per issue"' in text and "Every game and model run left these" not in text


def test_closest_to_what_happened_is_a_game_without_a_deal(klass):
    text = _text(klass["root"] / "class-debrief.html") if (klass["root"] / "class-debrief.html").exists() else ""
    if not text:
        assert experiment("debrief", "--class", str(klass["root"])).returncode == 0
        text = _text(klass["root"] / "class-debrief.html")
    runs = _runs(klass["played"])
    closest = text.split("Closest to what happened")[1].split("</table>")[0]
    furthest = text.split("Furthest from what happened")[1].split("</table>")[0]
    wars = runs[runs["ending"] == "war"]
    first = re.findall(r"<tr>\s*<td>([^<]+)</td>", closest)
    assert set(first[:len(wars)]) == set(wars["folder"][:3])  # the games that ended like 2022 come first
    deals = runs[runs["agreement"]]
    issues = pd.read_parquet(klass["played"][0] / "issues.parquet")
    span = (issues["upper"] - issues["lower"]).to_numpy()
    distance = [float(np.mean(np.abs(row[[f"outcome_{i}" for i in issues["issue"]]].to_numpy(float)
                                     - issues["status_quo"].to_numpy()) / span)) for _, row in deals.iterrows()]
    far = deals.assign(d=distance).sort_values(["d", "rounds", "folder"], ascending=[False, True, True])["folder"].iloc[0]
    assert re.findall(r"<tr>\s*<td>([^<]+)</td>", furthest)[0] == far
    assert json.loads((klass["demo"] / "manifest.json").read_text())["play_as"] == "nobody"


def test_school_level_debriefs_show_no_id_cause_code_or_true_false(klass, tmp_path):
    """`experiments.debrief ... level=school`, of the class and of one game (a walk-out in Russia's seat,
    and a game that ended in war), and the app's export of a school tab: no actor or issue id, cause code,
    True/False, section reference, file or folder name reaches the text; the terms that stay are
    explained. The same checker finds those in the university debriefs, which stay as they were."""
    from sim.classroom.session import Session
    from sim.runs.runner import load_scenario
    from tests.support.classroom import code_names, visible_text

    scenario = load_scenario("classroom/jan2022")
    school, university = tmp_path / "class-school.html", tmp_path / "class-university.html"
    assert experiment("debrief", "--class", str(klass["root"]), "level=school", "--out", str(school)).returncode == 0
    assert experiment("debrief", "--class", str(klass["root"]), "--out", str(university)).returncode == 0
    causes = _runs(klass["played"] + [klass["tuned"]])["breakdown_cause"]
    assert causes.str.contains(":").any() or (_runs(klass["played"])["ending"] == "war").any()
    texts = {"class": visible_text(school.read_text())}
    assert code_names(visible_text(university.read_text()), scenario) != []  # the checker sees them there
    for key in ("tuned", "first"):  # a seat played by a person; its model agent's runs were saved
        out = tmp_path / f"{key}.html"
        made = experiment("debrief", str(klass[key]), "--level", "school", "--out", str(out))
        assert made.returncode == 0, made.stderr
        texts[key] = visible_text(out.read_text())
        assert code_names(visible_text((klass[key] / "report.html").read_text()), scenario) != []
    tab = Session(class_name="school-tab", root=tmp_path / "results", replicates=0, level="school")
    tab.choose("play_as", "russia")
    tab.step()
    texts["app export"] = visible_text(tab.export().read_text())
    for key, text in texts.items():
        assert code_names(text, scenario) == [], key
        assert "Words to know" in text and re.search(r"Nash\s*:", text), key
    assert "Russia" in texts["class"] and "yes" in texts["first"]  # names, and yes/no instead of True/False
    bad = experiment("debrief", str(klass["first"]), "level=college")
    assert bad.returncode == 2 and "'college' is not a reading level; allowed: school, university" in bad.stderr
