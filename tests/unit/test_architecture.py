"""The shape of the code: the layers of sim/ and their import contracts (pyproject.toml,
[tool.importlinter]) hold, and ``import sim`` stays cheap (a sweep worker or ``--help`` pays for Mesa,
pandas and numpy only when it uses them: sim/__init__.py imports its public names lazily)."""

from __future__ import annotations

import json
import re
import tomllib

import pytest

from tests.support import REPO, run_python

PYPROJECT = REPO / "pyproject.toml"
#: Packages ``import sim`` must not load (heavy, or needed only once something runs).
HEAVY = ("mesa", "numpy", "pandas", "scipy", "matplotlib", "hydra", "omegaconf", "pyarrow", "solara")


def lint_imports(config, capsys) -> tuple[int, int, str]:
    """``lint-imports --config <config>`` in this process, without its cache: (kept, broken, report)."""
    from importlinter import configuration
    from importlinter.application import use_cases

    configuration.configure()
    capsys.readouterr()
    passed = use_cases.lint_imports(str(config), cache_dir=None, no_logo=True)
    report = capsys.readouterr().out
    counts = re.search(r"Contracts: (\d+) kept, (\d+) broken\.", report)
    assert counts, report
    kept, broken = int(counts.group(1)), int(counts.group(2))
    assert passed == (broken == 0), report  # the exit status agrees with the count
    return kept, broken, report


def test_every_import_contract_is_kept(capsys):
    contracts = tomllib.loads(PYPROJECT.read_text())["tool"]["importlinter"]["contracts"]
    kept, broken, report = lint_imports(PYPROJECT, capsys)
    assert len(contracts) >= 2  # the layers and the no-cycles contracts at least
    assert (kept, broken) == (len(contracts), 0), report


def test_a_broken_contract_is_reported(tmp_path, capsys):
    """The check can fail: the same layers upside down (domain above everything) are broken."""
    settings = tomllib.loads(PYPROJECT.read_text())["tool"]["importlinter"]
    (layers,) = [c["layers"] for c in settings["contracts"] if c["type"] == "layers"]
    config = tmp_path / "upside_down.toml"
    config.write_text(f"[tool.importlinter]\nroot_packages = {json.dumps(settings['root_packages'])}\n"
                      "exclude_type_checking_imports = true\n\n[[tool.importlinter.contracts]]\n"
                      f'name = "upside down"\ntype = "layers"\nlayers = {json.dumps(layers[::-1])}\n')
    kept, broken, report = lint_imports(config, capsys)
    assert (kept, broken) == (0, 1), report
    assert "upside down BROKEN" in " ".join(report.split()), report


IMPORT_SIM = """
import sys, time
start = time.perf_counter()
import sim
seconds = time.perf_counter() - start
print(seconds)
print(sim.__file__)
print(*sorted(sys.modules))
"""


@pytest.mark.subprocess
def test_import_sim_is_quick_and_loads_no_heavy_package():
    """In a fresh interpreter, the best of a few tries (a loaded machine only slows some of them)."""
    best = float("inf")
    for _ in range(7):
        done = run_python("-c", IMPORT_SIM, timeout=120)
        assert done.returncode == 0, done.stderr
        seconds, where, modules = done.stdout.splitlines()
        assert where.startswith(str(REPO / "sim")), where  # this checkout's sim
        loaded = sorted({m.split(".")[0] for m in modules.split()} & set(HEAVY))
        assert loaded == [], f"import sim loads {', '.join(loaded)}"
        best = min(best, float(seconds))
        if best < 0.1:
            break
    assert best < 0.1, f"import sim takes {best:.3f} s at best"


def test_no_test_module_imports_another():
    """Tests share code through tests/support (and conftest.py), never by importing a test module: imports at
    any depth, inside functions too."""
    import ast

    found = []
    for path in sorted((REPO / "tests").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names = [node.module or ""] if isinstance(node, ast.ImportFrom) else \
                [alias.name for alias in node.names] if isinstance(node, ast.Import) else []
            found += [f"{path.relative_to(REPO)}:{node.lineno} imports {name}" for name in names
                      if re.match(r"tests\.(unit|integration)(\.|$)", name)]
    assert not found, found
