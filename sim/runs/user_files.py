"""The user's own files, wherever they are: on the command line and inside a sweep or calibration file.

A command line (``python -m experiments.<command> ...``) may name a file by its path where it names a config:

* ``scenario=<path>`` (a YAML scenario, or a CSV in the BDM/DEU format, or a folder of CSVs),
* ``sweep=<path>`` and ``calibrate=<path>`` (a YAML file laid out like ``configs/sweep/`` and ``configs/calibrate/``),
* ``observed=<path>``: an observed record (the layout of ``data/jan2022_observed.yaml``) or an observed config
  (``path:`` to a record and ``rounds:``, like ``configs/observed/jan2022.yaml``); ``observed.path=<path>``
  is the same. A record's model rounds default to its dates in order: the first date is round 1, the next
  round 2, ...;
* ``observed.rounds=<mapping>`` *replaces* the mapping of model rounds to the record's dates (Hydra would merge
  it into the chosen config's and refuse a round that config does not map).

A sweep or calibration file (its own path, a shipped name or a name in ``--config-dir``) may name the same
inside: ``defaults: [override /scenario: <path>, override /observed: <path>]``, ``observed: {rounds: ...}``
(replaces, too) and sweep values of ``scenario`` ending in ``.yaml``. Paths are absolute, ``~/...``, or
relative: to the launch directory on the command line, to the file that names them inside a file. Spaces and
any Unicode are fine (:func:`hydra_quote`).

:func:`rewrite` turns all of it into what Hydra composes: a YAML file is copied into a fresh directory as
``<group>/<name>.yaml`` (that directory goes on Hydra's search path, so the file composes exactly like a
shipped one), a CSV becomes ``scenario=from_csv scenario.path='<absolute path>'``. :class:`UserFiles` says
which file the user wrote for every group (errors name it: :meth:`UserFiles.source`) and which input files a
run reads (copied into its results folder with their hash: :func:`sim.runs.results.copy_inputs`). A file
that names nothing of this passes unchanged: the shipped configs compose as before.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from sim.domain.config import CONFIG_DIR, REPO_ROOT
from sim.domain.errors import ConfigError

#: Groups whose value may be a path to a file on the command line.
PATH_GROUPS = ("scenario", "sweep", "calibrate", "observed")
SUFFIXES = {"scenario": (".yaml", ".yml", ".csv"), "sweep": (".yaml", ".yml"), "calibrate": (".yaml", ".yml"),
            "observed": (".yaml", ".yml")}
DEFAULT_OBSERVED = "jan2022"  # configs/config.yaml's ``observed: jan2022``
TEMP_PREFIX = "sim-user-configs-"


@dataclass
class UserFiles:
    """What :func:`rewrite` found: the user's files per group (as the user named them, for error messages),
    the input files a run reads (absolute paths, to copy into the results folder) and the temp copies."""

    files: dict[str, str] = field(default_factory=dict)  # group (or "observed.rounds") -> the user's file
    inputs: dict[str, str] = field(default_factory=dict)  # "scenario" | "observed" -> absolute path of the input
    copies: dict[str, str] = field(default_factory=dict)  # temp copy -> the user's file
    config_dirs: list[Path] = field(default_factory=list)  # --config-dir / -cd

    def source(self, error: ConfigError) -> ConfigError:
        """The error re-addressed to the user's file where the library could only name a group
        (``configs/observed``, ``configs/scenario``) or a temp copy."""
        source = error.source
        if source in self.copies:
            return ConfigError(self.copies[source], error.key, error.problem)
        if source == "configs/observed" and ("observed" in self.files or "observed.rounds" in self.files):
            rounds = str(error.key).startswith("observed.rounds")
            given = self.files.get("observed.rounds") if rounds else None
            return ConfigError(given or self.files.get("observed", source), error.key, error.problem)
        if source.startswith("configs/scenario") and "scenario" in self.files:
            return ConfigError(self.files["scenario"], error.key, error.problem)
        if source.startswith("scenario '"):  # a scenario the library knows only by its id: the user's file
            mine = self.files.get("scenario") or self._scenario_with_id(source[len("scenario '"):-1])
            if mine:
                return ConfigError(mine, error.key, error.problem)
        return error

    def _scenario_with_id(self, scenario_id: str) -> str | None:
        """The user's scenario file (a temp copy's original, or a file in a config dir) with this id or name."""
        import yaml

        candidates = [(Path(c), o) for c, o in self.copies.items() if Path(c).parent.name == "scenario"]
        candidates += [(p, str(p)) for d in self.config_dirs for p in sorted((d / "scenario").rglob("*.yaml"))]
        for path, original in candidates:
            try:
                data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
            except (OSError, yaml.YAMLError, UnicodeDecodeError):
                continue
            if path.stem == scenario_id or (isinstance(data, dict) and str(data.get("id")) == scenario_id):
                return original
        return None

    def name(self, path: str) -> str:
        """A temp copy's path named as the user's file (YAML errors point into the copy)."""
        return self.copies.get(str(path), str(path))


def hydra_quote(value: str) -> str:
    """A value quoted for Hydra's override grammar (spaces, ``=``, any Unicode, quotes inside)."""
    text = str(value).replace("\\'", "\\\\'").replace("'", "\\'")
    return f"'{text}\\\\'" if text.endswith("\\") else f"'{text}'"


def _config_dirs(argv: list[str]) -> list[Path]:
    dirs = []
    for index, argument in enumerate(argv):
        if argument in ("-cd", "--config-dir") and index + 1 < len(argv):
            dirs.append(Path(argv[index + 1]).expanduser())
        elif argument.startswith("--config-dir="):
            dirs.append(Path(argument.partition("=")[2]).expanduser())
    return dirs


def _shipped(group: str, name: str) -> bool:
    return (CONFIG_DIR / group / f"{name}.yaml").is_file()


def _looks_like_path(group: str, value: str) -> bool:
    if _shipped(group, value):  # scenario=classroom/jan2022 is a name
        return False
    return "/" in value or value.startswith("~") or value.endswith((".yaml", ".yml", ".csv"))


class _Rewriter:
    def __init__(self, argv: list[str]):
        self.argv = argv
        self.found = UserFiles(config_dirs=_config_dirs(argv))
        self.extra: Path | None = None
        self.scenario_given = any(a.startswith("scenario=") for a in argv)  # the command line chooses it

    # -- the temp config directory ---------------------------------------------------------------------
    def _dir(self) -> Path:
        if self.extra is None:
            self.extra = Path(tempfile.mkdtemp(prefix=TEMP_PREFIX))
        return self.extra

    def _write(self, group: str, name: str, text: str, original: str) -> str:
        """Write ``<group>/<name>.yaml`` in the temp dir (a fresh name if taken); returns the name."""
        import re

        folder = self._dir() / group
        folder.mkdir(parents=True, exist_ok=True)
        name = re.sub(r"[^A-Za-z0-9_-]", "_", name) or "mine"  # a config name Hydra's grammar takes
        stem, number = name, 1
        while (folder / f"{stem}.yaml").exists() or _shipped(group, stem):
            number += 1
            stem = f"{name}_{number}"
        (folder / f"{stem}.yaml").write_text(text, encoding="utf-8")
        self.found.copies[str(folder / f"{stem}.yaml")] = original
        return stem

    # -- reading the user's files ----------------------------------------------------------------------
    def _user_dir_file(self, group: str, name: str) -> Path | None:
        for folder in self.found.config_dirs:
            path = folder / group / f"{name}.yaml"
            if path.is_file():
                return path
        return None

    @staticmethod
    def _path(value: str, base: Path | None, source: str, key: str, group: str) -> Path:
        path = Path(str(value)).expanduser()
        if not path.is_absolute():
            path = (base or Path.cwd()) / path
        allowed = " or ".join(s for s in SUFFIXES[group] if s != ".yml")
        if path.suffix not in SUFFIXES[group] and not (group == "scenario" and path.is_dir()):
            raise ConfigError(source, key, f"{value!r}: a path must end in {allowed}")
        if not path.exists():
            where = "the launch directory" if base is None else f"the folder of {source}"
            raise ConfigError(source, key, f"{value!r}: no such file (a relative path is relative to {where}); "
                                           f"give a config name under configs/{group}/ or a path to a {allowed} file")
        return path.resolve()

    @staticmethod
    def _load(path: Path, source: str) -> Any:
        import yaml

        try:
            return yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError:
            return None  # Hydra reads the copy and reports the syntax error in one line (naming the user's file)
        except UnicodeDecodeError:
            raise ConfigError(source, "(file)", "not UTF-8 text; save the YAML file as UTF-8") from None

    # -- groups ----------------------------------------------------------------------------------------
    def scenario(self, path: Path, given: str) -> list[str]:
        """``scenario=<path>`` as Hydra arguments; the scenario's input file recorded."""
        self.found.files["scenario"] = given
        self.found.inputs["scenario"] = str(path)
        if path.suffix == ".csv" or path.is_dir():
            return ["scenario=from_csv", f"scenario.path={hydra_quote(str(path))}"]
        return [f"scenario={self._scenario_copy(path, given)}"]

    def _scenario_copy(self, path: Path, given: str) -> str:
        """A YAML scenario copied into the temp dir, with the files it inherits from beside it (``defaults:
        [base, _self_]``) and a relative CSV ``path:`` made absolute; returns its name there."""
        import yaml

        data = self._load(path, given)
        if isinstance(data, dict):
            parents = data.get("defaults") or []
            for entry in parents if isinstance(parents, list) else []:
                if isinstance(entry, str) and entry != "_self_" and not _shipped("scenario", entry) \
                        and (path.parent / f"{entry}.yaml").is_file():
                    self._scenario_copy_as(path.parent / f"{entry}.yaml", entry, str(path.parent / f"{entry}.yaml"))
            if isinstance(data.get("path"), str) and not Path(data["path"]).expanduser().is_absolute():
                data["path"] = str((path.parent / Path(data["path"]).expanduser()).resolve())
                return self._write("scenario", path.stem, yaml.safe_dump(data, sort_keys=False, allow_unicode=True),
                                   given)
        if _shipped("scenario", path.stem):
            raise ConfigError(given, "scenario", f"a shipped config is also called {path.stem!r}; rename your file")
        return self._write("scenario", path.stem, path.read_text(encoding="utf-8"), given)

    def _scenario_copy_as(self, path: Path, name: str, original: str) -> None:
        folder = self._dir() / "scenario"
        folder.mkdir(parents=True, exist_ok=True)
        if not (folder / f"{name}.yaml").exists():
            (folder / f"{name}.yaml").write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
            self.found.copies[str(folder / f"{name}.yaml")] = original

    def observed(self, value: str | None, base: Path | None, source: str, key: str,
                 rounds: tuple[str, Any] | None) -> str:
        """The observed config to compose: the record or config ``value`` names (a path, or a config name),
        with ``rounds`` = (where it was given, mapping) replacing its mapping. Returns its name (temp dir)."""
        import yaml

        if value is None or not _looks_like_path("observed", value):
            name = value or DEFAULT_OBSERVED
            file = self._user_dir_file("observed", name) if not _shipped("observed", name) else None
            file = file or CONFIG_DIR / "observed" / f"{name}.yaml"
            if not file.is_file():
                return name  # Hydra names the unknown config in one line
            config_file, record_base = file, REPO_ROOT
            if file.parent.parent != CONFIG_DIR:
                self.found.files["observed"] = str(file)
        else:
            config_file = self._path(value, base, source, key, "observed")
            record_base = config_file.parent
            self.found.files["observed"] = value if base is None else str(config_file)
        data = self._load(config_file, str(config_file))
        if not isinstance(data, dict):
            raise ConfigError(self.found.files.get("observed", str(config_file)), "observed",
                              "not valid YAML, or not a mapping; give an observed record (data/jan2022_observed.yaml) "
                              "or an observed config (path: and rounds:, configs/observed/jan2022.yaml)")
        if "path" in data:  # an observed config: path (relative to its folder, or the repository for shipped ones)
            record = Path(str(data["path"])).expanduser()
            if not record.is_absolute():
                record = record_base / record if (record_base / record).exists() else REPO_ROOT / record
            if record_base == REPO_ROOT and not Path(str(data["path"])).is_absolute():
                record = Path(str(data["path"]))  # a shipped config's record, named as it names it
            mapping = data.get("rounds") or {}
        else:  # a record itself
            record, mapping = config_file, default_rounds(data)
        if rounds is not None:
            self.found.files["observed.rounds"] = rounds[0]
            mapping = rounds[1]
        if not isinstance(mapping, Mapping):
            where = rounds[0] if rounds is not None else self.found.files.get("observed", str(config_file))
            raise ConfigError(where, "observed.rounds", f"{mapping!r}; give a mapping: model round -> date of the "
                                                        "record, e.g. {1: \"2022-02-17\", 2: \"2022-02-24\"}")
        record = record.resolve() if record.is_absolute() and record.exists() else record
        if record.is_absolute():
            self.found.inputs["observed"] = str(record)
        text = yaml.safe_dump({"path": str(record), "rounds": {_round_key(k): str(v) for k, v in mapping.items()}},
                              sort_keys=False, allow_unicode=True)
        return self._write("observed", f"own_{config_file.stem}", text, self.found.files.get("observed", str(config_file)))

    def settings_file(self, group: str, path: Path, given: str) -> tuple[str, dict[str, Any]]:
        """A sweep or calibration file: copied, with the scenario and observed record it names by path
        (relative to its folder) made composable. Returns its name in the temp dir and what it chose for
        ``observed`` ({} if nothing), which the command line's choice overrides."""
        import yaml

        data = self._load(path, given)
        chosen: dict[str, Any] = {}
        if not isinstance(data, dict):
            return self._copy_as_is(group, path, given), chosen
        changed = False
        defaults = data.get("defaults")
        if isinstance(defaults, list):
            kept = []
            for entry in defaults:
                if isinstance(entry, dict) and len(entry) == 1:
                    (target, value), = entry.items()
                    what = str(target).replace("override", "").strip().lstrip("/")
                    if what == "scenario" and isinstance(value, str) and _looks_like_path("scenario", value):
                        file = self._path(value, path.parent, given, "defaults.scenario", "scenario")
                        arguments = self.scenario(file, str(file))
                        if arguments[0] == "scenario=from_csv":
                            kept.append({target: "from_csv"})
                            data.setdefault("scenario", {})
                            data["scenario"]["path"] = str(file)
                        else:
                            kept.append({target: arguments[0].partition("=")[2]})
                        changed = True
                        continue
                    if what == "scenario" and isinstance(value, str) and not self.scenario_given:
                        mine = self._user_dir_file("scenario", value)
                        if mine is not None and not _shipped("scenario", value):
                            self.found.files["scenario"] = str(mine)
                    if what == "observed" and isinstance(value, str):
                        chosen["observed"] = (value, path.parent)
                        changed = True
                        continue
                kept.append(entry)
            data["defaults"] = kept
        observed = data.get("observed")
        if isinstance(observed, dict) and ("rounds" in observed or "path" in observed):
            if "path" in observed:
                chosen["observed"] = (str(observed.pop("path")), path.parent)
            if "rounds" in observed:
                chosen["rounds"] = (given, observed.pop("rounds"))
            if not observed:
                data.pop("observed")
            changed = True
        values = ((data.get(group) or {}).get("parameters") or {}).get("scenario") if group == "sweep" else None
        if isinstance(values, dict) and isinstance(values.get("values"), list):
            resolved = [str((path.parent / Path(v).expanduser()).resolve())
                        if isinstance(v, str) and v.endswith((".yaml", ".yml")) and not Path(v).expanduser().is_absolute()
                        else v for v in values["values"]]
            if resolved != values["values"]:
                values["values"], changed = resolved, True
        if not changed:
            return self._copy_as_is(group, path, given), chosen
        text = "# @package _global_\n" + yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
        return self._write(group, path.stem, text, given), chosen

    def _copy_as_is(self, group: str, path: Path, given: str) -> str:
        if path.parent == CONFIG_DIR / group:
            return path.stem
        if _shipped(group, path.stem) and not self.found.config_dirs:
            raise ConfigError(given, group, f"a shipped config is also called {path.stem!r}; rename your file")
        return self._write(group, path.stem, path.read_text(encoding="utf-8"), given)

    # -- the whole command line ------------------------------------------------------------------------
    def run(self) -> list[str]:
        out: list[str] = []
        observed: tuple[str, Path | None, str, str] | None = None  # (value, base, source, key)
        rounds: tuple[str, Any] | None = None
        file_choice: dict[str, Any] = {}
        observed_off = False
        for argument in self.argv:
            key, sep, value = argument.partition("=")
            if not sep or argument.startswith("-"):
                observed_off = observed_off or argument == "~observed"
                out.append(argument)
                continue
            if key in ("~observed", "observed") and value in ("null", ""):
                observed_off = True
                out.append(argument)
                continue
            if key == "observed.rounds":
                rounds = ("command line", _parse_value(argument))
                continue
            if key in ("observed", "observed.path"):
                observed = (value, None, "command line", key)
                continue
            if key == "scenario.path":
                out.append(f"scenario.path={hydra_quote(_absolute(value))}" if not value.startswith(("'", '"'))
                           and value not in ("null", "") else argument)
                if value not in ("null", ""):
                    self.found.inputs["scenario"] = _absolute(value)
                continue
            if key in ("scenario", "sweep", "calibrate"):
                if _looks_like_path(key, value):
                    path = self._path(value, None, "command line", key, key)
                    if key == "scenario":
                        out += self.scenario(path, value)
                        continue
                    self.found.files[key] = value
                    name, chosen = self.settings_file(key, path, value)
                    file_choice.update(chosen)
                    out.append(f"{key}={name}")
                    continue
                mine = self._user_dir_file(key, value)
                if mine is not None:
                    if _shipped(key, value):
                        raise ConfigError(str(mine), key, f"a shipped config is also called {value!r} and is found "
                                                          "first; rename your file")
                    self.found.files[key] = str(mine)
                    if key == "scenario":
                        self.found.inputs["scenario"] = str(mine.resolve())
                    else:
                        name, chosen = self.settings_file(key, mine, str(mine))
                        file_choice.update(chosen)
                        out.append(f"{key}={name}")
                        continue
                elif key in ("sweep", "calibrate") and _shipped(key, value):
                    name, chosen = self.settings_file(key, CONFIG_DIR / key / f"{value}.yaml",
                                                      f"configs/{key}/{value}.yaml")
                    file_choice.update(chosen)
                    out.append(f"{key}={name}")
                    continue
            out.append(argument)
        if not observed_off and (observed or rounds or file_choice):
            if observed is None and "observed" in file_choice:
                value, base = file_choice["observed"]
                source = self.found.files.get("calibrate") or self.found.files.get("sweep") or "a settings file"
                observed = (value, base, source, "defaults.observed")
            if rounds is None and "rounds" in file_choice:
                rounds = file_choice["rounds"]
            value, base, source, key = observed or (None, None, "command line", "observed")
            out.append(f"observed={self.observed(value, base, source, key, rounds)}")
        if self.extra is not None:
            out.append(f"hydra.searchpath=[{hydra_quote('file://' + str(self.extra))}]")
        return out


def _round_key(key: Any) -> Any:
    try:
        return int(key) if str(int(key)) == str(key).strip() else str(key)
    except (TypeError, ValueError):
        return str(key)  # round_map refuses it, naming the key


def default_rounds(record: Mapping[str, Any]) -> dict[int, str]:
    """A record's model rounds when no mapping is given: its dates in order, the first at round 1 (round 0 is
    the scenario as written, dated before them)."""
    dates = record.get("rounds") if isinstance(record.get("rounds"), Mapping) else {}
    return {index: str(date) for index, date in enumerate(dates, start=1)}


def _absolute(value: str) -> str:
    path = Path(value).expanduser()
    return str(path.resolve()) if path.exists() else value


def _parse_value(argument: str) -> Any:
    """The value of a ``key=value`` override in Hydra's grammar (``{1:"2022-02-17"}``)."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    return OverridesParser.create().parse_overrides([argument])[0].value()


def rewrite(argv: list[str]) -> tuple[list[str], UserFiles]:
    """The command line as Hydra composes it, and what it named of the user's (module docstring).

    Raises:
        ConfigError: a path that does not exist or has another suffix, naming where it was given.
    """
    rewriter = _Rewriter(list(argv))
    return rewriter.run(), rewriter.found
