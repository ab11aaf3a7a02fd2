"""The documentation a reader gets with a clone: every in-repo link resolves, nothing points outside
the repository except cited sources, the documented queries run, the gallery is current."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.support import REPO, experiment

PAGES = sorted([REPO / "README.md", REPO / "results" / "README.md", *(REPO / "docs").rglob("*.md")])
LINK = re.compile(r"!?\[(?:[^\]\[]|\[[^\]]*\])*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")


def anchors(page: Path) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens."""
    found = set()
    in_code = False
    for line in page.read_text().splitlines():
        if line.startswith("```"):
            in_code = not in_code
        if not in_code and line.startswith("#"):
            text = line.lstrip("#").strip().lower()
            found.add(re.sub(r"[^\w\- ]", "", text).replace(" ", "-"))
    return found


def links(page: Path) -> list[str]:
    text = re.sub(r"```.*?```", "", page.read_text(), flags=re.S)  # code blocks are not links
    return LINK.findall(text)


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(REPO)))
def test_every_in_repo_link_resolves(page):
    for target in links(page):
        if re.match(r"^[a-z]+:", target):  # http(s), mailto: a cited source outside the repository
            continue
        path, _, anchor = target.partition("#")
        resolved = (page.parent / path).resolve() if path else page
        assert resolved.is_relative_to(REPO), f"{page.name}: {target} leaves the repository"
        assert resolved.exists(), f"{page.relative_to(REPO)}: {target} does not exist"
        if anchor and resolved.suffix == ".md":
            assert anchor in anchors(resolved), f"{page.relative_to(REPO)}: no heading #{anchor} in {path or page.name}"


def test_docs_cite_in_repo_pages_not_files_a_clone_lacks():
    for page in PAGES:
        text = page.read_text()
        assert "shared/domain" not in text and "../shared" not in text, page
        for match in re.finditer(r"MODEL\.md", text):  # only as the name of the § numbering, explained in model.md
            assert page.name == "model.md", f"{page.relative_to(REPO)} cites MODEL.md; cite docs/explanation/model.md"


def test_the_link_checker_catches_a_broken_link(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("# Title\n\nsee [the model](nowhere.md) and [ok](#title)\n```\n[not a link](x.md)\n```\n")
    assert links(page) == ["nowhere.md", "#title"] and "title" in anchors(page)


@pytest.fixture(scope="module")
def sweep_folder(tmp_path_factory):
    out = tmp_path_factory.mktemp("docs") / "pc"
    done = experiment("sweep", "sweep=smoke", "sweep.replicates=2", f"sweep.out={out}",
                      "sweep.progress=false", "rounds=6")
    assert done.returncode == 0, done.stderr
    return out


@pytest.mark.subprocess
def test_the_documented_duckdb_query_runs(sweep_folder):
    import duckdb

    page = (REPO / "docs" / "how-to" / "sweeps.md").read_text()
    query = re.search(r'duckdb\.sql\("""(.*?)"""\)', page, flags=re.S).group(1)
    assert "FROM 'results/sweeps/pc/runs.parquet'" in query
    rows = duckdb.sql(query.replace("results/sweeps/pc", str(sweep_folder))).fetchall()
    assert len(rows) == 9 and all(row[3] == 2 for row in rows)  # 3 protocols x 3 scenarios, 2 replicates
    assert all(0.0 <= row[2] <= 1.0 for row in rows)


@pytest.mark.subprocess
def test_load_results_returns_tables_with_dtypes_and_the_manifest(sweep_folder):
    import sim

    results = sim.load_results(sweep_folder)
    assert results.completed and results.manifest["runs_done"] == len(results.runs) == 18
    assert results.runs["agreement"].dtype == bool and results.runs["seed"].dtype == "int64"
    assert results.config["sweep"]["name"] == "smoke"
    with pytest.raises(AttributeError, match="no rounds.parquet"):
        results.rounds
    with pytest.raises(sim.ConfigError, match="no runs.parquet"):
        sim.load_results(sweep_folder / "figures")


@pytest.mark.subprocess
def test_the_documented_discover_commands_run_on_a_small_deal_space_sweep(tmp_path, capsys):
    """docs/how-to/discover.md: the shipped sweep (80 points instead of 2 000), then each documented
    discover command on it, as written (results/ moved to a temporary folder)."""
    import shlex

    from experiments.discover import main

    page = (REPO / "docs" / "how-to" / "discover.md").read_text()
    commands = re.findall(r"^python -m experiments\.discover (.+)$", page, flags=re.M)
    sweeps = re.findall(r"^python -m experiments\.sweep (.+)$", page, flags=re.M)
    assert len(commands) >= 3 and sweeps == ["sweep=deal_space sweep.workers=1 sweep.out=results/sweeps/deal_space"]
    done = experiment("sweep", *shlex.split(sweeps[0].replace("results/", f"{tmp_path}/")),
                      "sweep.samples=80", "sweep.progress=false")
    assert done.returncode == 0, done.stderr
    for command in commands:
        main(shlex.split(command.replace("results/", f"{tmp_path}/")))
        out = capsys.readouterr().out
        assert out.startswith("PRIM on 80 runs") and "box 1: coverage" in out, (command, out)
    assert (tmp_path / "sweeps" / "deal_space" / "discover" / "agreement" / "figures" / "peeling_trajectory.png").exists()
    snippet = re.search(r"```python\n(.*?)```", page, flags=re.S).group(1)  # the notebook example
    scope: dict = {}
    exec(snippet.replace("results/", f"{tmp_path}/"), scope)
    assert scope["result"].boxes and "box 1: coverage" in capsys.readouterr().out


@pytest.mark.subprocess
def test_the_gallery_is_built_from_the_shipped_configs_and_is_current(tmp_path):
    from sim.report.gallery import build_gallery

    page = build_gallery(tmp_path / "docs", tmp_path / "work")
    committed = REPO / "docs" / "gallery.md"
    assert page.read_text() == committed.read_text(), "docs/gallery.md is stale: run python -m experiments.gallery"
    built = sorted(p.name for p in (tmp_path / "docs" / "figures" / "gallery").glob("*.png"))
    shipped = sorted(p.name for p in (REPO / "docs" / "figures" / "gallery").glob("*.png"))
    assert built == shipped and len(built) >= 10
    for name in ("positions", "utility_space", "comparison", "offers", "heatmap", "distributions", "sobol", "morris"):
        assert any(name in file for file in built), name


@pytest.mark.subprocess
def test_the_documented_score_table_is_what_score_prints(tmp_path):
    """docs/how-to/calibrate.md shows `experiments.score` on `experiments.run protocol=all`: the same numbers."""
    page = (REPO / "docs" / "how-to" / "calibrate.md").read_text()
    shown = re.search(r"\n```\n(scored against .*?)\n```", page, flags=re.S).group(1).splitlines()
    out = tmp_path / "all"
    run = experiment("run", "protocol=all", "record.figures=false", f"hydra.run.dir={out}")
    assert run.returncode == 0, run.stderr
    scored = experiment("score", str(out))
    assert scored.returncode == 0, scored.stderr
    assert scored.stdout.strip().splitlines() == shown
