"""Plot a finished sweep folder again, with other choices:

    python -m experiments.plot FOLDER [plot.heatmap=[KEY,KEY]] [plot.output=OUTPUT]
                                      [figures.format=png|pdf|svg] [figures.dpi=INT]

Writes figures/ (heatmap of an output over two swept parameters — numbers or categories such as
protocol — outcome distributions by each categorical parameter, Sobol or Morris indices with
warnings where they are not to be trusted) and summary.csv / summary.md (outcome means with 95%
intervals by scenario and protocol or by the categorical parameters). Also run at the end of every
sweep. KEY is a swept parameter (its config key or its column name). Bad input: one line, exit 2.

Examples:
    python -m experiments.plot results/sweeps/rr
    python -m experiments.plot results/sweeps/rr plot.heatmap=[scenario.actors.russia.outside_option.cost,scenario.actors.russia.outside_option.optimism]
    python -m experiments.plot results/sweeps/protocols plot.heatmap=[protocol,scenario] figures.format=pdf
"""

from __future__ import annotations

import sys

from experiments.cli import folder_and_options
from sim.domain.errors import ConfigError
from sim.report.sweep_report import replot_sweep


def main(argv: list[str] | None = None) -> None:
    try:
        folder, options = folder_and_options(sys.argv[1:] if argv is None else argv, __doc__, None, ())
        for path in replot_sweep(folder, options):
            print(path)
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    from experiments.cli import run_command

    run_command(main)
