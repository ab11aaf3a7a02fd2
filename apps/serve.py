"""The classroom server (``make classroom`` runs it; so do the browser tests):

    python -m apps.serve --host 127.0.0.1 --port 8765     # CLASSROOM_CLASS=<class> for the class folder

Before it hands over to ``solara run apps/classroom.py --production`` (in this process), it

* checks the class name (``CLASSROOM_CLASS``, ``make classroom CLASS=...``): a name that is not one safe
  folder name ends here in one line, exit status 2, instead of every Export failing later; and the
  reading level new tabs start at (``CLASSROOM_LEVEL``, ``make classroom LEVEL=school``): school or
  university, else one line and exit status 2;
* serves Solara's front-end files read-only: Solara's asset route (``/_solara/cdn/<path>``) answers
  from the unpacked files (``SOLARA_ASSETS_PROXY_CACHE_DIR``, ``make assets``) or says 404. Solara's
  own handler deletes a directory of that cache when one is requested and fetches missing files from
  the internet: one request from any device on the class network broke every new tab;
* frees a tab whose connection dropped without closing (a phone asleep, a laptop closed, a browser
  killed) after ``--cull-timeout`` (default :data:`CULL_TIMEOUT`; ``SOLARA_KERNEL_CULL_TIMEOUT`` sets
  the default too): Solara keeps such a session, its game and charts, for 24 hours by default, and a
  day of classes on one server would pile them up. A tab closed normally is freed at once;
* loads what the first Export needs (debrief, figures, the model agents' runs), and starts computing
  the default game's model agents' runs, so that the first student to export does not wait for them.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

APP = Path(__file__).with_name("classroom.py")
CULL_TIMEOUT = "5m"  # a student whose phone slept for less gets the game back on waking
PRELOAD = ("sim.report.debrief", "sim.report.plots", "sim.report.run_report", "sim.report.wording",
           "sim.runs.runner", "sim.runs.design", "sim.analysis.pooling", "scipy.stats.qmc", "matplotlib.figure",
           "matplotlib.backends.backend_agg")


def asset_path(base: Path, path: str) -> Path:
    """The unpacked file Solara's asset route serves for ``path``; FileNotFoundError for anything else
    (a directory, a missing file, a path out of ``base``). Never writes, fetches or deletes."""
    parts = path.replace("\\", "/").split("/")
    stored = Path(base) / (path if len(parts) != 1 else Path(path) / "__main.js")  # Solara's own layout
    resolved, root = stored.resolve(), Path(base).resolve()
    if root not in resolved.parents or not resolved.is_file():
        raise FileNotFoundError(path)
    return resolved


def read_only_assets() -> None:
    """Solara's asset route answers from the unpacked files only (:func:`asset_path`). Called before
    Solara's server module is imported, which takes ``get_path`` from ``cdn_helper`` by name (its
    ``StaticCdn.lookup_path`` answers 404 when it raises); a test checks the route uses it."""
    import solara.server.cdn_helper as cdn_helper

    if "solara.server.starlette" in sys.modules:
        raise RuntimeError("read_only_assets() must run before solara.server.starlette is imported")

    def refuse(*_args, **_kwargs):
        raise PermissionError("the classroom server does not change its asset files")

    cdn_helper.get_path = asset_path
    cdn_helper.put_in_cache = cdn_helper.get_data = refuse


def preload(replicates: int = 30) -> None:
    """Import what the first Export needs, and start computing the model agents' runs of the default
    game (``replicates``: apps/classroom.py's REPLICATES) in the background: most students keep it."""
    import importlib

    for module in PRELOAD:
        importlib.import_module(module)
    from sim.classroom import ClassroomModel
    from sim.classroom.session import warm_replicates

    game = ClassroomModel()
    warm_replicates(ClassroomModel(play_as=game.negotiation.actor_ids[0]), replicates)


def cull_after(timeout: str) -> float:
    """Solara frees a session whose page disconnected without closing after ``timeout`` ("90s", "5m",
    "1h"; Solara's own setting ``kernel.cull_timeout``). Set before the server starts; returns seconds.

    Raises:
        ConfigError: ``timeout`` is not a positive duration.
    """
    from sim.domain.errors import ConfigError
    from solara.util import parse_timedelta

    try:
        seconds = parse_timedelta(str(timeout).strip())
    except ValueError:
        seconds = -1.0
    if not seconds > 0:
        raise ConfigError("command line", "--cull-timeout", f"{timeout!r}; a positive duration such as 90s, 5m or 1h")
    os.environ["SOLARA_KERNEL_CULL_TIMEOUT"] = str(timeout).strip()
    import solara.server.settings as settings

    settings.kernel.cull_timeout = str(timeout).strip()
    return seconds


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--cull-timeout", default=os.environ.get("SOLARA_KERNEL_CULL_TIMEOUT") or CULL_TIMEOUT,
                        help=f"free a session whose page disconnected without closing after this long "
                             f"(default {CULL_TIMEOUT}; e.g. 90s, 10m)")
    args = parser.parse_args(argv)
    from sim.classroom.exports import check_class_name
    from sim.domain.config import check_level
    from sim.domain.errors import ConfigError

    try:
        check_class_name(os.environ.get("CLASSROOM_CLASS", ""))
        check_level(os.environ.get("CLASSROOM_LEVEL", "") or "university", "LEVEL")
        cull_after(args.cull_timeout)
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(2)
    read_only_assets()
    preload()
    from solara.__main__ import cli

    cli(["run", str(APP), "--host", args.host, "--port", str(args.port), "--production"])


if __name__ == "__main__":
    main()
