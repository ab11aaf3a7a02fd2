"""A class exporting at once: every tab's game in a folder of its own, whole, and re-runnable
(sim/classroom/exports.py, sim/classroom/session.py, sim/runs/files.py)."""

from __future__ import annotations

import contextlib
import io
import json
import threading

import pandas as pd
import pytest

from sim.analysis.pooling import DUPLICATE, pool
from sim.classroom.exports import check_class_name, class_folder
from sim.classroom.session import Session
from sim.domain.errors import ConfigError
from sim.report.commands import reproduce_command
from tests.support.classroom import play_to_end

pytestmark = pytest.mark.subprocess  # the exports' manifests ask git for the commit

SEATS = ["nobody", "ukraine", "russia", "usa", "nato"]




@pytest.mark.slow  # 15 games played, exported at once and re-run: about a minute on 2 cores
def test_fifteen_sessions_exporting_in_the_same_second_write_fifteen_whole_games(tmp_path):
    sessions = []
    for n in range(15):
        session = Session(class_name="3ème-B", root=tmp_path, replicates=2)
        session.choose("seed", str(n + 1))
        session.reset()
        session.choose("play_as", SEATS[n % len(SEATS)])
        play_to_end(session)
        sessions.append(session)
    start = threading.Barrier(len(sessions))
    paths: dict[int, object] = {}

    def press(index: int) -> None:
        start.wait()
        paths[index] = sessions[index].export()

    threads = [threading.Thread(target=press, args=(n,)) for n in range(len(sessions))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [s.error for s in sessions] == [""] * 15
    folders = [paths[n].parent for n in range(15)]
    assert len(set(folders)) == 15
    root = tmp_path / "3ème-B"
    assert sorted(p for p in root.iterdir()) == sorted(folders)  # nothing else, no temp file left
    assert not [p for p in root.rglob("*") if ".tmp" in p.name]
    for session, folder in zip(sessions, folders):
        manifest = json.loads((folder / "manifest.json").read_text())
        assert manifest["completed"] and manifest["session"] == session.id and folder.name.endswith(
            f"_{session.model.play_as}_{session.id}")
        row = pd.read_parquet(folder / "runs.parquet").iloc[0]  # this session's game, not another's
        assert (int(row["seed"]), row["play_as"], int(row["rounds"])) == (
            session.model.seed, session.model.play_as, session.model.round)
        assert (folder / "report.html").read_text().startswith("<!DOCTYPE html>")
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            status = reproduce_command(folder)
        assert status == 0 and out.getvalue().strip().endswith("reproduced: identical"), out.getvalue()


def test_a_double_click_writes_one_game_and_a_new_move_a_new_one(tmp_path):
    session = Session(class_name="monday-3rd", root=tmp_path, replicates=0)
    session.step()
    first = session.export()
    second = session.export()
    assert first == second and "already written" in session.message
    assert len(list((tmp_path / "monday-3rd").iterdir())) == 1
    session.step()
    third = session.export()
    assert third != first and len(list((tmp_path / "monday-3rd").iterdir())) == 2
    session.reset()  # a new game at round 0 is not the first game at round 1
    assert session.export() not in (first, third)


def test_an_export_after_a_change_of_reading_level_is_written_in_the_new_words(tmp_path):
    session = Session(class_name="monday-3rd", root=tmp_path, replicates=0)
    session.step()
    university = session.export()
    session.choose("level", "school")
    school = session.export()  # the same game state: before, the university report came back
    assert school != university and "already written" not in session.message
    assert school.read_text() != university.read_text()
    assert session.export() == school and "already written" in session.message  # a double click, as before
    (games,) = pool(tmp_path / "monday-3rd", include_all=True)  # the class debrief: one game, one set apart
    assert len(games.games) == 1 and list(games.apart["why"].str.startswith(DUPLICATE)) == [True]


def test_class_names_a_teacher_types_are_folders_and_paths_are_not(tmp_path):
    for name in ("3ème-B", "Monday 3rd", "Klasse 7ä", "école_2.b"):
        assert class_folder(name, tmp_path) == tmp_path / name
    for name, why in (("../x", "holds / or \\"), ("a/b", "holds / or \\"), (".hidden", "starts with '.'"),
                      ("..", "starts with '.'"), ("a\x00b", "control character"), ("a\nb", "control character"),
                      ("x" * 101, "longer than 100")):
        with pytest.raises(ConfigError, match="CLASS: class: .*" + why.replace("\\", "\\\\")):
            check_class_name(name)


def test_an_export_names_the_tuned_actors(tmp_path):
    session = Session(root=tmp_path, replicates=0)
    session.tuning.set(session.chosen.scenario, "actors.russia.capability", 1.5)
    session.reset()
    session.step()
    manifest = json.loads((session.export().parent / "manifest.json").read_text())
    assert manifest["changed_actors"] == ["scenario.actors.russia.capability=1.5"]
