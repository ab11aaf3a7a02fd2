"""The debrief report: self-contained HTML from a results folder."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def test_debrief_report_is_self_contained(tmp_path):
    folder = tmp_path / "run"
    done = subprocess.run([sys.executable, "-m", "experiments.run", "scenario=jan2022_core", "protocol=all",
                           "seed=2", "rounds=10", f"hydra.run.dir={folder}"], cwd=REPO, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    made = subprocess.run([sys.executable, "-m", "experiments.debrief", str(folder)], cwd=REPO,
                          capture_output=True, text=True)
    assert made.returncode == 0, made.stderr
    text = (folder / "report.html").read_text()
    assert text.startswith("<!DOCTYPE html>")
    assert len(re.findall("data:image/png;base64,", text)) >= 4  # comparison, offers, positions x 2+
    assert not re.search(r"<script|<link|src=\"http|url\(http", text)  # opens without network access
    assert "Timeline of offers and responses" in text and "Nash" in text and "What happened" in text


def test_debrief_refuses_a_folder_that_is_not_a_run(tmp_path):
    done = subprocess.run([sys.executable, "-m", "experiments.debrief", str(tmp_path)], cwd=REPO,
                          capture_output=True, text=True)
    assert done.returncode == 2 and done.stderr.startswith("error:") and len(done.stderr.splitlines()) == 1
