"""Write printable role cards, one per actor, for a scenario.

    python -m experiments.cards scenario=jan2022
    python -m experiments.cards scenario=classroom/jan2022 hydra.run.dir=cards_out
    python -m experiments.cards scenario=classroom/jan2022 level=school   # for 16-year-olds

Writes <run dir>/cards/<actor>.md and <actor>.html (the student's card: one A4 page, plain words) and
<actor>-sources.md/.html (the teacher's appendix: every number's basis and the web addresses the
domain brief cites, from configs/sources/jan2022-brief.yaml) for every actor, plus
cards/all-cards.html (every card, one A4 page each: one print job) and cards/index.html linking them,
and prints the folder. level=school writes the students' cards in short sentences, without weights,
source notes or code names, with the treaty terms they use explained (default: level=university). The run dir is Hydra's (results/<experiment>/<timestamp>/ by default).
Every number and its basis come from configs/scenario/<name>.yaml and its trailing comments (see
sim/report/cards/). A number changed on the command line keeps no basis: its YAML comment no longer
describes it. Bad input: one line on stderr, exit status 2.
"""

from __future__ import annotations

from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig

from experiments.cli import one_line_errors, report_and_exit, user_file
from sim.domain.config import register_configs
from sim.report.cards import write_scenario_cards

register_configs()


@hydra.main(version_base="1.3", config_path="../configs", config_name="config")
@one_line_errors(manifest=False)
def main(cfg: DictConfig) -> None:
    folder = Path(HydraConfig.get().runtime.output_dir) / "cards"
    name = HydraConfig.get().runtime.choices.get("scenario")
    write_scenario_cards(cfg.scenario, name, folder, user_file("scenario"), level=cfg.level)
    print(f"cards: {folder}")


def cli() -> None:
    report_and_exit(main)


if __name__ == "__main__":
    cli()
