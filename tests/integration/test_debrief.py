"""The debrief report: self-contained HTML from a results folder."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.support import experiment, play_to_the_end

pytestmark = pytest.mark.subprocess  # every test runs experiments.debrief


def test_debrief_report_is_self_contained(tmp_path):
    folder = tmp_path / "run"
    done = experiment("run", "scenario=jan2022_core", "protocol=all", "seed=2", "rounds=10",
                      f"hydra.run.dir={folder}")
    assert done.returncode == 0, done.stderr
    made = experiment("debrief", str(folder))
    assert made.returncode == 0, made.stderr
    text = (folder / "report.html").read_text()
    assert text.startswith("<!DOCTYPE html>")
    # a chart per protocol whose positions moved; flat ones (no information) are left out
    rounds = pd.read_parquet(folder / "rounds.parquet")
    moved = {protocol for protocol, part in rounds.groupby("protocol")
             if part.groupby(["actor", "issue"])["position"].agg(np.ptp).max() > 1e-9}
    for protocol in set(rounds["protocol"]):
        assert (f"Positions by round ({protocol})" in text) == (protocol in moved), protocol
    events = pd.read_parquet(folder / "events.parquet")
    offers = events[events["kind"] == "offer"]
    offers_moved = len(offers) > 1 and any(np.ptp(offers[c].to_numpy(dtype=float)) > 1e-9
                                           for c in offers.columns if c.startswith("offer_"))
    assert ("Offers by round on the" in text) == offers_moved
    assert len(re.findall("data:image/png;base64,", text)) == 1 + offers_moved + len(moved)
    assert "@media print" in text
    assert not re.search(r"<script|<link|src=\"http|url\(http", text)  # opens without network access
    assert "Timeline of offers and answers" in text and "Nash" in text and "What happened" in text


def test_debrief_refuses_a_folder_that_is_not_a_run(tmp_path):
    done = experiment("debrief", str(tmp_path))
    assert done.returncode == 2 and done.stderr.startswith("error:") and len(done.stderr.splitlines()) == 1


def _export_games(root: Path, count: int) -> list[Path]:
    """``count`` classroom games in different seats and seeds, played to the end and exported (the
    last one exported mid-game, which the class debrief must leave out)."""
    from sim.classroom import ClassroomModel, export

    seats = ["ukraine", "russia", "usa", "nato"]
    folders = []
    for n in range(count):
        model = ClassroomModel(play_as=seats[n % len(seats)], seed=n + 1)
        play_to_the_end(model, accept=n % 2 == 0)
        folders.append(export(model, root, replicates=4).parent)
    unfinished = ClassroomModel(play_as="nato", seed=99)
    unfinished.step()
    folders.append(export(unfinished, root, replicates=4).parent)
    return folders


@pytest.mark.parametrize("count", [3])
def test_the_class_debrief_pools_every_export(tmp_path, count):
    from sim.analysis.pooling import pool

    root = tmp_path / "monday-3rd"
    folders = _export_games(root, count)
    made = experiment("debrief", "--class", str(root))
    assert made.returncode == 0, made.stderr
    text = (root / "class-debrief.html").read_text()
    assert not re.search(r"<script|<link|src=\"http|url\(http", text) and "@media print" in text

    # the numbers, computed here from the exports directly
    runs = pd.concat([pd.read_parquet(f / "runs.parquet") for f in folders[:count]], ignore_index=True)
    replicates = pd.concat([pd.read_parquet(f / "replicates.parquet") for f in folders[:count]], ignore_index=True)
    assert len(runs) == count and len(replicates) == 4 * count
    (games,) = pool(root)
    assert len(games.finished) == count and games.agreement_rate() == runs["agreement"].mean()
    assert f"{count} exported games" not in text and f"{count + 1} exported games" in text
    assert f"<td>the class (finished games)</td>\n      <td>{count}</td>\n      <td>{runs['agreement'].mean():.0%}</td>" in text
    assert (f"<td>the model agents in every seat (distinct runs)</td>\n      <td>{len(replicates)}</td>\n      "
            f"<td>{replicates['agreement'].mean():.0%}</td>") in text
    assert f"Not pooled (exported before the end): {folders[-1].name}" in text
    for seat, part in runs.groupby("play_as"):
        values = part[f"utility_{seat}"]
        model = replicates[f"utility_{seat}"]
        row = (f"<td>{seat}</td>\n      <td>{len(values)}</td>\n      <td>{values.mean():.2f}</td>\n      "
               f"<td>{values.min():.2f}</td>\n      <td>{values.max():.2f}</td>\n      <td>{model.mean():.2f}</td>")
        assert row in text, seat
    issues = pd.read_parquet(folders[0] / "issues.parquet")
    for issue, label in zip(issues["issue"], issues["label"]):
        assert f"<td>{label}</td>" in text or f"<td>{label.replace('<', '&lt;').replace('>', '&gt;')}</td>" in text
        class_mean = runs[f"outcome_{issue}"].mean()  # agreed outcomes: a game without a deal has none
        model_mean = replicates[f"outcome_{issue}"].mean()
        shown = [("–" if np.isnan(v) else f"{v:.2f}") for v in (class_mean, model_mean)]
        assert f"<td>{shown[0]}</td>\n      <td>{shown[1]}</td>" in text, issue
    # closest to 2022: a game without a deal first (ending in war, as in 2022), then the smallest mean
    # distance of the agreed outcome from the status quo
    span = (issues["upper"] - issues["lower"]).to_numpy()
    distance = [0.0 if not row["agreement"] else
                float(np.mean(np.abs(np.array([row[f"outcome_{i}"] for i in issues["issue"]])
                                     - issues["status_quo"].to_numpy()) / span)) for _, row in runs.iterrows()]
    kind = [2 if row["agreement"] else 0 if row["ending"] == "war" else 1 for _, row in runs.iterrows()]
    closest = text.split("Closest to what happened")[1].split("</table>")[0]
    best = runs.iloc[min(range(len(runs)), key=lambda n: (kind[n], distance[n], runs["rounds"].iloc[n]))]
    assert f"<td>{best['play_as']}</td>\n      <td>{best['ending']}</td>" in closest.split("</tr>")[1]


def test_the_class_debrief_refuses_a_folder_without_exports(tmp_path):
    done = experiment("debrief", "--class", str(tmp_path))
    assert done.returncode == 2 and done.stderr.startswith("error:") and len(done.stderr.splitlines()) == 1
    assert "--class: no exported games" in done.stderr
