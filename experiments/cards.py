"""Write printable role cards, one per actor, for a scenario.

    python -m experiments.cards scenario=jan2022
    python -m experiments.cards scenario=classroom/jan2022 hydra.run.dir=cards_out

Writes <run dir>/cards/<actor>.md and <actor>.html (the student's card: one A4 page, plain words) and
<actor>-sources.md/.html (the teacher's appendix: every number's basis and the web addresses the
domain brief cites, from configs/sources/jan2022-brief.yaml) for every actor, plus
cards/index.html linking them, and prints the folder. The run dir is Hydra's (results/<experiment>/<timestamp>/ by default).
Every number and its basis come from configs/scenario/<name>.yaml and its trailing comments (see
sim/cards.py). A number changed on the command line keeps no basis: its YAML comment no longer
describes it. Bad input: one line on stderr, exit status 2.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import hydra
import yaml
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig

from sim.cards import card_html, role_card, teacher_appendix, yaml_comments
from experiments.cli import one_line_errors, report_and_exit, user_file
from sim.config import CONFIG_DIR, ConfigError, register_configs
from sim.scenario import scenario_from_config
from sim.scenario import Scenario

register_configs()


def _drop_overridden(comments: dict[str, str], raw: Any, scenario: Scenario) -> dict[str, str]:
    """Comments whose number was changed by a command-line override no longer give its basis."""
    actors = (raw or {}).get("actors") or {} if isinstance(raw, dict) else {}
    kept = dict(comments)
    for actor in scenario.actors:
        given = actors.get(actor.id) or {}
        for what in ("position", "salience"):
            values = given.get(what) or {}
            for iid, value in getattr(actor, what).items():
                try:
                    same = float(values.get(iid)) == value
                except (TypeError, ValueError):
                    same = False
                if not same:
                    kept.pop(f"actors.{actor.id}.{what}.{iid}", None)
        try:
            same = float(given.get("capability")) == actor.capability
        except (TypeError, ValueError):
            same = False
        if not same:
            kept.pop(f"actors.{actor.id}.capability", None)
    return kept


SOURCES = CONFIG_DIR / "sources" / "jan2022-brief.yaml"  # tools/brief-sources; not a config group to compose


def brief_sources(scenario: Scenario) -> dict:
    """The web addresses of the domain brief a scenario is built from (sources.yaml), or {}."""
    if not SOURCES.exists() or "brief" not in (scenario.source or ""):
        return {}
    return yaml.safe_load(SOURCES.read_text(encoding="utf-8")) or {}


def write_cards(scenario: Scenario, yaml_path: Path | None, folder: Path) -> list[Path]:
    """Write every actor's card (.md and .html: one A4 page for the student), its teacher's appendix
    (<actor>-sources.md/.html: the basis and sources of every number) and an index.html into ``folder``."""
    comments: dict[str, str] = {}
    if yaml_path is not None and yaml_path.exists():
        comments = yaml_comments(yaml_path)
        try:
            raw = yaml.safe_load(yaml_path.read_text(encoding="utf-8"))
        except yaml.YAMLError:
            raw = None
        comments = _drop_overridden(comments, raw, scenario)
    sources = brief_sources(scenario)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    title = scenario.name or scenario.id
    items = []
    for actor in scenario.actors:
        markdown = role_card(scenario, actor.id, comments)
        md_path = folder / f"{actor.id}.md"
        html_path = folder / f"{actor.id}.html"
        md_path.write_text(markdown, encoding="utf-8")
        html_path.write_text(card_html(markdown, f"{actor.name} - {title}"), encoding="utf-8")
        appendix = teacher_appendix(scenario, actor.id, comments, sources)
        appendix_md, appendix_html = folder / f"{actor.id}-sources.md", folder / f"{actor.id}-sources.html"
        appendix_md.write_text(appendix, encoding="utf-8")
        appendix_html.write_text(card_html(appendix, f"Sources: {actor.name} - {title}"), encoding="utf-8")
        written += [md_path, html_path, appendix_md, appendix_html]
        items.append(f'<li><a href="{html.escape(actor.id)}.html">{html.escape(actor.name)}</a> '
                     f'(<a href="{html.escape(actor.id)}.md">Markdown</a>; teacher\'s appendix: '
                     f'<a href="{html.escape(actor.id)}-sources.html">sources</a>)</li>')
    index = folder / "index.html"
    index.write_text(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        f"<title>Role cards - {html.escape(title)}</title>\n"
        "<style>body{font-family:Georgia,serif;margin:2em;max-width:40em}li{margin:.3em 0}</style>\n"
        "</head>\n<body>\n"
        f"<h1>Role cards</h1>\n<p>{html.escape(title)}</p>\n<ul>\n" + "\n".join(items)
        + "\n</ul>\n<p>Open a card and print it: one A4 page per card, for the student. The teacher's appendix "
        "gives the basis and the sources of every number on it.</p>\n</body>\n</html>\n",
        encoding="utf-8")
    written.append(index)
    return written


@hydra.main(version_base="1.3", config_path="../configs", config_name="config")
@one_line_errors
def main(cfg: DictConfig) -> None:
    folder = Path(HydraConfig.get().runtime.output_dir) / "cards"
    name = HydraConfig.get().runtime.choices.get("scenario")
    scenario = scenario_from_config(cfg.scenario, source=user_file("scenario"))
    yaml_path = CONFIG_DIR / "scenario" / f"{name}.yaml" if name else None
    if yaml_path is not None and not yaml_path.exists():
        raise ConfigError("configs/scenario", "scenario", f"no YAML file for scenario {name!r}")
    write_cards(scenario, yaml_path, folder)
    print(f"cards: {folder}")


def cli() -> None:
    report_and_exit(main)


if __name__ == "__main__":
    cli()
