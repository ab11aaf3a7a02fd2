"""Plot a finished sweep folder again, with other choices:

    python -m experiments.plot FOLDER [plot.heatmap=[KEY,KEY]] [plot.output=OUTPUT]
                                      [figures.format=png|pdf|svg] [figures.dpi=INT]
                                      [figures.width=single|double|INCHES] [figures.details=true]

Writes figures/ (heatmap of an output over two swept parameters — numbers or categories such as
protocol — outcome distributions by each categorical parameter, Sobol or Morris indices of each
point's mean over its replicates, with the share of seed noise and warnings where they are not to be
trusted), figures/captions.md (what each figure was drawn from: scenario, protocol, n, seeds; drawn in
the figures only with figures.details=true) and summary.csv / summary.md (outcome means with 95%
intervals by scenario and protocol or by the categorical parameters). figures.width draws every figure
at a journal's column (single, 3.5 in) or page width (double, 7.2 in), text at 7 pt or more. Also run
at the end of every sweep. KEY is a swept parameter (its config key or column). Bad input: one line, exit 2.

Examples:
    python -m experiments.plot results/sweeps/rr
    python -m experiments.plot results/sweeps/rr plot.heatmap=[scenario.actors.russia.outside_option.cost,scenario.actors.russia.outside_option.optimism]
    python -m experiments.plot results/sweeps/protocols plot.heatmap=[protocol,scenario] figures.format=pdf
    python -m experiments.plot results/sweeps/sal figures.format=pdf figures.width=single
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
