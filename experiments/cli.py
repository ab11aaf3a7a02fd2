"""What every entry point shares: user mistakes become one line and an exit status, never a traceback.

Exit status: 2 for bad input (a config, YAML, CSV, override or path: the line names the file, the key
and what is allowed), 1 when writing results fails (permission, full disk: the folder stays marked
incomplete), 130 on Ctrl-C. The library (``sim/``) only raises; it never exits or touches the
environment. ``HYDRA_FULL_ERROR=1`` shows the traceback instead.
"""

from __future__ import annotations

import errno
import functools
import os
import sys
import traceback
from pathlib import Path
from typing import Any, Callable, Optional

from sim.domain.config import CONFIG_DIR
from sim.domain.errors import CommandFailed, ConfigError, WriteError

#: Files the user named on the command line (``scenario=my.yaml``): group -> path, for error messages.
USER_FILES: dict[str, str] = {}
#: The input files a run reads that the user gave (``scenario``, ``observed``): copied into its results folder.
USER_INPUTS: dict[str, str] = {}
_FOUND: list = []  # the last sim.runs.user_files.UserFiles (temp copies -> the user's files)


def user_file(group: str) -> Optional[str]:
    """The user's own file given for ``group`` on this command line, if any."""
    return USER_FILES.get(group)


def user_inputs() -> dict[str, str]:
    """The user's input files this command line names (``scenario``, ``observed``): absolute paths."""
    return dict(USER_INPUTS)


def _addressed(error: ConfigError) -> ConfigError:
    """A ConfigError re-addressed to the user's own file (sim.runs.user_files.UserFiles.source)."""
    return _FOUND[-1].source(error) if _FOUND else error


def fail(message: str, status: int = 2) -> None:
    print(f"error: {message}", file=sys.stderr)
    sys.exit(status)


def write_error_line(error: OSError, manifest: bool = True) -> str:
    """A failed write (permission, full disk, a file where a folder should be) as one line, naming the file;
    ``manifest``: the command marks its folder incomplete first, and the line says so."""
    reason = {errno.ENOSPC: "the disk is full", errno.EDQUOT: "the disk quota is exceeded",
              errno.EACCES: "permission denied", errno.EPERM: "permission denied",
              errno.ENOTDIR: "a file is in the way of a folder on this path",
              errno.EROFS: "the file system is read-only"}.get(error.errno, error.strerror or str(error))
    where = error.filename or "the results folder"
    note = "; the results folder is marked incomplete (manifest.json)" if manifest else ""
    if error.errno == errno.ENOENT and not isinstance(error, WriteError):
        return f"{where}: no such file or folder{note}"
    return f"{where}: cannot write: {reason}{note}"


def yaml_error_line(error: BaseException) -> Optional[str]:
    """A YAML syntax error, tab or duplicate key (anywhere in the cause chain) as one line."""
    import yaml

    cause: BaseException | None = error
    while cause is not None and not isinstance(cause, yaml.YAMLError):
        cause = cause.__cause__ or cause.__context__
    if cause is None:
        return None
    mark = getattr(cause, "problem_mark", None)
    name = getattr(mark, "name", None) or "a YAML file"
    name = _user_name(name)
    problem = getattr(cause, "problem", None) or str(cause).splitlines()[0]
    if "\\t" in problem or "\t" in problem:
        problem = "a tab character; YAML indents with spaces only"
    where = f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else "?"
    context = getattr(cause, "context", None)
    return f"{name}: {where}: {problem}{f' ({context})' if context and 'duplicate' not in problem else ''}"


def _user_name(path: str) -> str:
    """A temporary copy of a user's file (see :func:`file_overrides`) named as the user gave it."""
    return _FOUND[-1].name(path) if _FOUND else path


def hydra_error_line(error: BaseException) -> Optional[str]:
    """Turn a Hydra / OmegaConf composition error into one line, or None if it is not one."""
    from hydra.errors import HydraException, MissingConfigException, OverrideParseException
    from omegaconf.errors import OmegaConfBaseException

    if isinstance(error, AssertionError) and any(
            frame.name == "_apply_overrides_to_config" for frame in traceback.extract_tb(error.__traceback__)):
        # Hydra asserts when an override reaches inside a value that is null in the config.
        return ("command line: an override sets a key inside a value that is null in the config; "
                "set the whole value instead, e.g. scenario.budget={issues:[a,b],total:100}")
    line = yaml_error_line(error)
    if line:
        return line
    if isinstance(error, MissingConfigException):
        group = (error.missing_cfg_file or "").rsplit("/", 1)
        options = ", ".join(sorted(o for o in error.options or [] if not o.endswith("_schema")))
        if len(group) == 2:
            return f"configs/{group[0]}: unknown {group[0]} '{group[1]}'; allowed: {options or '(none)'}"
        return f"configs: {str(error).splitlines()[0]}"
    if isinstance(error, OverrideParseException):
        return f"command line: {str(error).splitlines()[0]}"
    cause: BaseException | None = error
    while cause is not None and not isinstance(cause, OmegaConfBaseException):
        cause = cause.__cause__ or cause.__context__
    if isinstance(cause, OmegaConfBaseException):
        key = getattr(cause, "full_key", None) or "?"
        message = (getattr(cause, "msg", None) or str(cause)).splitlines()[0]
        if "not in struct" in message or "not in '" in message or "Missing key" in message:
            message = f"unknown key {key!r}; see docs/reference/config.md for the allowed keys"
        return f"{_composed_file(error)}: {key}: {message}"
    if isinstance(error, HydraException):
        return f"configs: {str(error).splitlines()[0]}"
    return None


def _composed_file(error: BaseException) -> str:
    """The config file a composition error happened in (``In 'scenario/x': ...``), the user's own
    file if it was one, else the command line's overrides."""
    import re

    match = re.search(r"In '([^']+)'", str(error))
    if match:
        group, _, name = match.group(1).rpartition("/")
        for copy, original in (_FOUND[-1].copies.items() if _FOUND else ()):
            if Path(copy).parent.name == group and Path(copy).stem == name:
                return original
        for folder in (_FOUND[-1].config_dirs if _FOUND else ()):
            if (folder / f"{match.group(1)}.yaml").is_file() and not (CONFIG_DIR / f"{match.group(1)}.yaml").exists():
                return str(folder / f"{match.group(1)}.yaml")
        if (CONFIG_DIR / f"{match.group(1)}.yaml").exists():
            return f"configs/{match.group(1)}.yaml"
        return match.group(1)
    return "configs (with command-line overrides)"


def one_line_errors(task: Callable[..., Any] | None = None, *, manifest: bool = True) -> Any:
    """Decorate a Hydra task function: a ConfigError raised inside the job prints one line and exits 2
    (Hydra would otherwise log "Error executing job ..." and a traceback first), a CommandFailed its line
    and status; a failed write prints one line naming the file and exits 1. ``manifest=False`` for a
    command that writes no manifest.json (``@one_line_errors(manifest=False)``)."""
    if task is None:
        return functools.partial(one_line_errors, manifest=manifest)

    @functools.wraps(task)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return task(*args, **kwargs)
        except ConfigError as error:
            fail(str(_addressed(error)), 2)
        except CommandFailed as error:
            fail(str(error), error.status)
        except OSError as error:
            if error.errno is None:
                raise
            fail(write_error_line(error, manifest), 1)

    return wrapper


def file_overrides(argv: list[str]) -> list[str]:
    """Let ``scenario=``, ``sweep=``, ``calibrate=`` and ``observed=`` name a file anywhere (a path, with
    spaces or any Unicode), ``observed.rounds=`` replace the mapping, and a sweep or calibration file name
    its scenario and record by a path relative to itself (:func:`sim.runs.user_files.rewrite`). Arguments
    that name a shipped config pass unchanged. Errors in the user's files name them (:data:`USER_FILES`).

    Raises:
        ConfigError: a path that does not exist or has another suffix.
    """
    from sim.runs.user_files import rewrite

    out, found = rewrite(argv)
    _FOUND.append(found)
    USER_FILES.update(found.files)
    USER_INPUTS.update(found.inputs)
    return out


def help_without_unused_groups() -> None:
    """Hydra's ``--help`` lists every config group's options even when the help template does not show
    them (ours, configs/hydra/help/, do not): a copy of the config repository per group, half a second.
    List them only for a template that asks for them."""
    import string

    from hydra._internal.hydra import Hydra
    from omegaconf import OmegaConf

    full = Hydra.get_help

    def get_help(self, help_cfg, cfg, args_parser, resolve):  # same signature as Hydra's (hydra-core 1.3)
        if "CONFIG_GROUPS" in help_cfg.template:
            return full(self, help_cfg, cfg, args_parser, resolve)
        return string.Template(help_cfg.template).substitute(
            FLAGS_HELP=self.format_args_help(args_parser), HYDRA_CONFIG_GROUPS="", APP_CONFIG_GROUPS="",
            CONFIG=OmegaConf.to_yaml(cfg, resolve=resolve))

    Hydra.get_help = get_help


def report_and_exit(main: Callable[[], Any]) -> None:
    """Run a Hydra (or plain) entry point; turn user mistakes into one line on stderr.

    Hydra normally prints its own multi-line report and exits 1. We ask it to re-raise
    (``HYDRA_FULL_ERROR``) so composition errors reach us, unless the user set that variable to get a
    traceback. Programming errors are not caught: their traceback is the useful report.
    """
    user_wants_traceback = os.environ.get("HYDRA_FULL_ERROR") == "1"
    os.environ["HYDRA_FULL_ERROR"] = "1"
    try:
        sys.argv[1:] = file_overrides(sys.argv[1:])
        if "--help" in sys.argv[1:] or "-h" in sys.argv[1:]:
            help_without_unused_groups()
        main()
    except ConfigError as error:
        fail(str(_addressed(error)), 2)
    except KeyboardInterrupt:
        fail("interrupted (Ctrl-C)", 130)
    except BrokenPipeError:
        _output_closed()
    except Exception as error:  # noqa: BLE001 - filtered just below
        if user_wants_traceback:
            raise
        if isinstance(error, OSError) and error.errno is not None:
            fail(write_error_line(error, manifest=False), 1)
        line = hydra_error_line(error)
        if line is None:
            raise
        fail(line, 2)


def _output_closed() -> None:
    """Whoever read our output stopped reading (``--help | head``): nothing to report, exit 1 quietly,
    and send what is still buffered nowhere, or it fails again at exit (Python docs, "Note on SIGPIPE")."""
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    sys.exit(1)


def run_command(main: Callable[[], Any]) -> None:
    """Run a plain (argparse or ``FOLDER KEY=VALUE``) command's ``main``. Output piped into a reader
    that stops early (``--help | head``) ends it quietly, as :func:`report_and_exit` does for the Hydra ones;
    a CommandFailed prints its one line and exits with its status, a ConfigError exits 2, a file that cannot
    be written exits 1, each in one line.
    The flush is inside, so that a help text still buffered when the command exits is covered too."""
    try:
        try:
            main()
        finally:
            sys.stdout.flush()
    except BrokenPipeError:
        _output_closed()
    except CommandFailed as error:
        fail(str(error), error.status)
    except ConfigError as error:  # e.g. a received folder's config.yaml that calls a resolver
        fail(str(error), 2)
    except OSError as error:  # a file that could not be written (or read): one line, no traceback
        if error.errno is None:
            raise
        fail(write_error_line(error, manifest=False), 1)


def folder_and_options(argv: list[str], doc: str, allowed: tuple[str, ...] | None = None,
                       text: tuple[str, ...] = ()) -> tuple[Path, dict[str, Any]]:
    """The ``FOLDER KEY=VALUE ...`` command lines of the commands that work on a results folder
    (``experiments.plot``, ``experiments.discover``): values in YAML syntax ([a,b], 0.8, true), the
    ``text`` keys kept as typed. ``--help`` (or nothing) prints ``doc``.

    Raises:
        ConfigError: an argument that is not KEY=VALUE, a key not ``allowed``, or a value that is not YAML.
    """
    import yaml

    if not argv or argv[0] in ("-h", "--help"):
        print(doc)
        sys.exit(0 if argv else 2)
    folder, options = Path(argv[0]), {}
    for argument in argv[1:]:
        key, sep, value = argument.partition("=")
        if not sep or (allowed is not None and key not in allowed):
            raise ConfigError("command line", key if sep else argument,
                              ("unknown option" if sep else "expected KEY=VALUE") + "; allowed: "
                              + ", ".join(allowed or ("KEY=VALUE",)))
        if key in text:
            options[key] = value
            continue
        try:
            options[key] = yaml.safe_load(value)
        except yaml.YAMLError:
            raise ConfigError("command line", key, f"{value!r} is not a value (e.g. [a,b], 0.8 or true)") from None
    return folder, options


def chosen(cfg: Any, group: str, what: str) -> tuple[dict[str, Any], str]:
    """The settings of a config group an entry point needs (``sweep=<name>``, ``calibrate=<name>``) as a
    plain dict, and the file they came from (the user's own, if given by path).

    Raises:
        ConfigError: the group was not chosen; the line lists the shipped names.
    """
    from omegaconf import OmegaConf

    if cfg.get(group) is None:
        names = sorted(p.stem for p in (CONFIG_DIR / group).glob("*.yaml"))
        raise ConfigError("command line", group, f"choose {what}: {group}=<name>; allowed: {', '.join(names)}")
    settings = OmegaConf.to_container(cfg[group], resolve=True)
    return settings, user_file(group) or f"configs/{group}/{settings.get('name')}.yaml"
