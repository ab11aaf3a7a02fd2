"""CSV import: the BDM / DEU long format ``Actor,Capability,Position,Salience`` (one row per actor per
issue), read in the encodings spreadsheets save, checked cell by cell, and turned into the same
scenario data a YAML file gives (:func:`sim.domain.scenario.build_scenario` validates both)."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from sim.domain.errors import ConfigError
from sim.domain.checks import number, scale_bounds


CSV_COLUMNS = ("Actor", "Capability", "Position", "Salience")
#: Note of an imported issue whose CSV gives no status quo (see :func:`csv_data`).
NO_STATUS_QUO = "no status quo in the CSV file (placeholder: the c·s-weighted median)"


def csv_text(file: Path) -> str:
    """A CSV file's text: UTF-8 (with or without BOM), UTF-16 with a BOM, or else Windows-1252 /
    Latin-1 (what spreadsheets on Windows save as "CSV"). A spreadsheet saved under a .csv name, or
    binary data, is refused in one line naming the file."""
    data = file.read_bytes()
    if data[:4] == b"PK\x03\x04" or data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise ConfigError(str(file), "file", "an Excel workbook (.xlsx/.xls), not CSV text; allowed: save it "
                                             "as CSV (UTF-8) and give that file")
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return data.decode("utf-16")
    if b"\x00" in data:  # text never holds NUL bytes (UTF-16 without a BOM does, and is valid UTF-8)
        raise ConfigError(str(file), "file", "binary data or UTF-16 without a byte-order mark; allowed: CSV "
                                             "text in UTF-8, UTF-16 (with BOM) or Latin-1/Windows-1252")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _slug(text: str) -> str:
    out = "".join(ch.lower() if ch.isalnum() else "_" for ch in text.strip())
    while "__" in out:
        out = out.replace("__", "_")
    return out.strip("_") or "actor"


def csv_data(
    path: str | Path,
    scale: Sequence[float] = (0.0, 100.0),
    status_quo: Mapping[str, float] | None = None,
    scenario_id: str | None = None,
) -> dict[str, Any]:
    """Read the BDM/DEU long format ``Actor,Capability,Position,Salience`` (one row per actor
    per issue), either one file with an ``Issue`` column or a directory with one file per issue
    (issue id = file name). Salience must be on 0-1; positions on ``scale``.

    The status quo of an issue is a row whose Actor is ``Status Quo`` (its Position is used), or an
    entry of ``status_quo``. Without either (the plain BDM/DEU file) the issue's status quo is set to
    the c·s-weighted median of the positions and its ``note`` starts with :data:`NO_STATUS_QUO`: the
    ``eu`` protocol never uses a status quo; the runner refuses the bundle protocols, which do.

    Raises:
        ConfigError: naming the file, the row and the column of the first bad cell.
    """
    path = Path(path)
    files = _csv_files(path)
    status_quo = dict(status_quo or {})
    lower, upper = scale_bounds(scale, "command line", "scenario.scale")
    rows, sq_rows, issue_order = _read_rows(path, files)
    _check_rows(path, rows, status_quo, issue_order, lower, upper)
    return {"id": scenario_id or _slug(path.stem), "name": scenario_id or path.stem,
            "issues": _issues_config(rows, sq_rows, status_quo, issue_order, lower, upper),
            "actors": _actors_config(path, rows)}


#: One actor's row on one issue: issue id, actor id, name, capability, position, salience.
_Row = tuple[str, str, str, float, float, float]


def _csv_files(path: Path) -> list[Path]:
    """The CSV files a scenario path names: the file itself, or every ``*.csv`` of a directory."""
    if path.is_dir():
        files = sorted(path.glob("*.csv"))
        if not files:
            raise ConfigError(str(path), "scenario.path", "directory holds no *.csv files")
        return files
    if path.is_file():
        return [path]
    raise ConfigError(str(path), "scenario.path", "no such file or directory")


def _read_rows(path: Path, files: list[Path]) -> tuple[list[_Row], dict[str, float], list[str]]:
    """Every actor row, the status-quo rows by issue and the issues in file order."""
    rows: list[_Row] = []
    sq_rows: dict[str, float] = {}
    issue_order: list[str] = []
    for file in files:
        reader = csv.DictReader(io.StringIO(csv_text(file), newline=""))
        header = [h.strip() for h in (reader.fieldnames or [])]
        lookup = {h.lower(): raw for h, raw in zip(header, reader.fieldnames or [])}
        missing = [c for c in CSV_COLUMNS if c.lower() not in lookup]
        if missing:
            raise ConfigError(str(file), "header",
                              f"missing column(s) {', '.join(missing)}; required: "
                              f"{', '.join(CSV_COLUMNS)} (optional: Issue)")
        has_issue = "issue" in lookup
        for line, row in enumerate(reader, start=2):
            def cell(column: str) -> str:
                return (row.get(lookup[column.lower()]) or "").strip()

            issue_id = _slug(cell("Issue")) if has_issue else _slug(file.stem)
            if issue_id not in issue_order:
                issue_order.append(issue_id)
            name = cell("Actor")
            if not name:
                raise ConfigError(str(file), f"Actor (row {line})", "empty; allowed: an actor name")
            where = lambda column: f"{column} (row {line})"  # noqa: E731
            position = number(cell("Position"), str(file), where("Position"))
            if _slug(name) in ("status_quo", "sq"):
                sq_rows[issue_id] = position
                continue
            capability = number(cell("Capability"), str(file), where("Capability"))
            salience = number(cell("Salience"), str(file), where("Salience"))
            rows.append((issue_id, _slug(name), name, capability, position, salience))
    if not rows:
        raise ConfigError(str(path), "rows", "no actor rows found")
    return rows, sq_rows, issue_order


def _check_rows(path: Path, rows: list[_Row], status_quo: Mapping[str, float], issue_order: list[str],
                lower: float, upper: float) -> None:
    """Status-quo overrides name issues of the file; saliences on [0, 1]; positions on the scale."""
    for issue_id in status_quo:
        if issue_id not in issue_order:
            raise ConfigError("command line", f"scenario.status_quo.{issue_id}",
                              f"no issue {issue_id!r} in {path}; allowed: {', '.join(issue_order)}")
    for issue_id, _, name, _, position, salience in rows:
        if not 0.0 <= salience <= 1.0:
            raise ConfigError(str(path), f"Salience (actor {name!r}, issue {issue_id!r})",
                              f"{salience:g} is outside [0, 1]; rescale 0-100 data by 1/100")
        if not lower <= position <= upper:
            raise ConfigError(str(path), f"Position (actor {name!r}, issue {issue_id!r})",
                              f"{position:g} is outside the scale [{lower:g}, {upper:g}]; set "
                              "scenario.scale=[lower,upper]")


def _issues_config(rows: list[_Row], sq_rows: dict[str, float], status_quo: Mapping[str, float],
                   issue_order: list[str], lower: float, upper: float) -> dict[str, Any]:
    """Each issue's label, status quo (given, a status-quo row, or the placeholder median) and scale."""
    issues_cfg: dict[str, Any] = {}
    for issue_id in issue_order:
        if issue_id in status_quo:
            sq = status_quo[issue_id]
        elif issue_id in sq_rows:
            sq = sq_rows[issue_id]
        else:  # placeholder for the reference tables only; see NO_STATUS_QUO
            mine = [(c * s, x) for i, _, _, c, x, s in rows if i == issue_id]
            weights, points = np.array(mine).T[:, np.argsort([x for _, x in mine])]
            sq = float(points[np.searchsorted(np.cumsum(weights), weights.sum() / 2)])
        issues_cfg[issue_id] = {"label": issue_id.replace("_", " "), "status_quo": sq,
                                "scale": [lower, upper],
                                "note": "" if issue_id in status_quo or issue_id in sq_rows else NO_STATUS_QUO}
    return issues_cfg


def _actors_config(path: Path, rows: list[_Row]) -> dict[str, Any]:
    """Each actor's name, capability (one per actor) and position and salience per issue."""
    actors_cfg: dict[str, Any] = {}
    for issue_id, actor_id, name, capability, position, salience in rows:
        entry = actors_cfg.setdefault(actor_id, {"name": name, "capability": capability,
                                                 "position": {}, "salience": {}})
        if issue_id in entry["position"]:
            raise ConfigError(str(path), f"Actor {name!r}",
                              f"appears twice on issue {issue_id!r}; ids must be unique per issue")
        entry["position"][issue_id] = position
        entry["salience"][issue_id] = salience
        if entry["capability"] != capability:
            # DEU files repeat capability per issue; it must agree (capability is per actor).
            raise ConfigError(str(path), f"Capability (actor {name!r})",
                              f"differs between issues ({entry['capability']:g} vs {capability:g})")
    return actors_cfg
