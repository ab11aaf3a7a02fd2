"""The figure gallery (docs/gallery.md, docs/figures/gallery/), built from the shipped configs
(``python -m experiments.gallery``; a test builds it again and compares).

Every figure is made by the command printed under it, as a reader would type it (run as a subprocess
from the repository root), so the gallery shows what the shipped scenarios and sweeps produce and how to
get each picture.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from sim.domain.config import REPO_ROOT

DPI = 80  # small files in the repository; the commands make full-size figures

#: (name, entry point, arguments, [(figure file stem, caption)])
ENTRIES = [
    ("jan2022_eu", "run", ["scenario=jan2022", "protocol=eu", "seed=1", "rounds=20"], [
        ("positions", "Each actor's position by round on the eleven issues under the expected-utility "
                      "model; dotted: status quo, dashed: compromise, dash-dot: c·s median, black: Nash "
                      "solution. Enlargement is discrete, so its axis names the levels."),
        ("utility_space", "Utility space of every pair of the four actors: sampled bundles, each pair's "
                          "Pareto frontier, Nash and Kalai–Smorodinsky points, the no-deal point and the outcome."),
    ]),
    ("jan2022_all", "run", ["scenario=jan2022", "protocol=all", "seed=3"], [
        ("comparison", "The three protocols on every issue beside the status quo and the reference "
                       "solutions: with the documented rules none agrees, and the hollow markers show what "
                       "was on the table when talks broke down (see docs/explanation/why-talks-fail.md)."),
    ]),
    ("jan2022_no_red_lines", "run", ["scenario=jan2022_no_red_lines", "protocol=offers", "seed=3"], [
        ("offers", "Every proposal of the offers protocol by round and proposer (crosses rejected, dots "
                   "agreed), in the counterfactual without the documented red lines and package rule."),
    ]),
    ("jan2022_extended", "run", ["scenario=jan2022_extended", "protocol=eu", "seed=0", "rounds=10"], [
        ("utility_space", "With ten actors the utility space becomes parallel coordinates: one axis per actor."),
    ]),
    ("russia_resolve", "sweep", ["sweep=russia_resolve", "sweep.replicates=2"], [
        ("agreement_heatmap", "Share of runs ending in agreement over Russia's war optimism and its cost of "
                              "war (offers protocol; the shipped sweep has 10 replicates per cell)."),
    ]),
    ("protocols", "sweep", ["sweep=smoke", "sweep.heatmap=[protocol,scenario]"], [
        ("agreement_heatmap", "A heatmap over two categorical parameters: protocol × scenario."),
        ("distributions_by_protocol", "Outcomes by protocol: agreement as a proportion with its 95% Wilson "
                                      "interval, outcomes on an issue as box plots."),
    ]),
    ("salience_sobol", "sweep", ["sweep=salience_sensitivity", "sweep.samples=8"], [
        ("sobol_bundle_enlargement", "Sobol indices with their intervals; ⚠ marks indices not to be trusted, "
                                      "and the figure's section of figures/captions.md says why and what sample "
                                      "size would do."),
    ]),
    ("salience_morris", "sweep", ["sweep=salience_sensitivity", "sweep.design=morris", "sweep.samples=4"], [
        ("morris_bundle_enlargement", "Morris screening: importance μ* against σ, parameters numbered and "
                                       "named in the legend."),
    ]),
]


def write_gallery(out: Path = REPO_ROOT / "docs") -> Path:
    """:func:`build_gallery` into ``out`` (docs/ by default), the runs in a temporary folder; returns the
    page."""
    with tempfile.TemporaryDirectory(prefix="gallery-") as work:
        return build_gallery(out, Path(work))


def build_gallery(out: Path, work: Path) -> Path:
    """Run every entry into ``work``, copy its figures to ``out/figures/gallery`` and write
    ``out/gallery.md``; returns the page."""
    figures = out / "figures" / "gallery"
    if figures.exists():
        shutil.rmtree(figures)
    figures.mkdir(parents=True)
    lines = ["# Figure gallery", "",
             "What the shipped scenarios and sweeps draw, and the command behind each figure (from the "
             "repository root; results go to `results/` unless `hydra.run.dir=` or `sweep.out=` says "
             "otherwise). Every figure can also be written as PDF or SVG with `figures.format=pdf` "
             "(`figures.dpi=` for PNG), at a journal's column or page width with `figures.width=single` or "
             "`double` ([figures for a paper](how-to/sweeps.md#figures-for-a-paper)); the run details "
             "(scenario, protocol, n, seeds) are in `figures/captions.md` beside the figures, and in them with "
             "`figures.details=true`. A finished sweep is re-plotted with "
             "[`python -m experiments.plot`](how-to/sweeps.md#re-plot-a-finished-sweep). This page and "
             "its figures are rebuilt by `python -m experiments.gallery`; a test checks that they match.",
             ""]
    for name, module, args, shown in ENTRIES:
        target = work / name
        where = f"hydra.run.dir={target}" if module == "run" else f"sweep.out={target}"
        extra = ["sweep.progress=false"] if module == "sweep" else []
        done = subprocess.run([sys.executable, "-m", f"experiments.{module}", *args, where, *extra,
                               f"figures.dpi={DPI}"], cwd=REPO_ROOT, capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"{module} {' '.join(args)} failed:\n{done.stderr}")
        lines += [f"## `{' '.join(args)}`", "", "```sh", f"python -m experiments.{module} {' '.join(args)}",
                  "```", ""]
        for stem, caption in shown:
            source = target / "figures" / f"{stem}.png"
            file = f"{name}_{stem}.png"
            shutil.copyfile(source, figures / file)
            lines += [f"![{caption}](figures/gallery/{file})", "", f"*{caption}*", ""]
    page = out / "gallery.md"
    page.write_text("\n".join(lines))
    return page
