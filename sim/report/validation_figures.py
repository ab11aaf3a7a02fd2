"""Figures of the DEU benchmark (docs/explanation/validation.md): MAE per model with its interval, and
predicted against observed outcomes per model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save(figure, path: Path, dpi: int = 150, fmt: str = "png") -> Path:
    """Write a figure through a temp file (no half-written file) and close it."""
    path = Path(path).with_suffix("." + fmt)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.tmp.{fmt}")
    figure.savefig(tmp, dpi=dpi, bbox_inches="tight", format=fmt)
    tmp.replace(path)
    _pyplot().close(figure)
    return path


def mae_figure(scores: pd.DataFrame, caption: str = ""):
    """Horizontal bars: each model's MAE; the whisker is the paired bootstrap 95 % interval of its MAE
    minus the compromise's, drawn around the compromise's MAE plus the difference (n per model on the
    right)."""
    plt = _pyplot()
    table = scores.sort_values("mae", ascending=False).reset_index(drop=True)
    base = float(scores.loc[scores["model"] == "compromise", "mae"].iloc[0]) if (scores["model"] == "compromise").any() else 0.0
    figure, ax = plt.subplots(figsize=(7.5, 0.42 * len(table) + 1.4))
    y = np.arange(len(table))
    colours = ["#4c72b0" if f == "protocol" else "#8c8c8c" if f == "reference" else "#dd8452"
               for f in table.get("family", pd.Series(["reference"] * len(table)))]
    ax.barh(y, table["mae"], color=colours, alpha=0.85)
    centre = base + table["diff"].to_numpy()
    low = base + table["low"].to_numpy()
    high = base + table["high"].to_numpy()
    ok = np.isfinite(low) & (table["model"] != "compromise").to_numpy()
    ax.errorbar(centre[ok], y[ok], xerr=[centre[ok] - low[ok], high[ok] - centre[ok]], fmt="o", color="black",
                markersize=3, capsize=3, label="compromise MAE + paired difference, 95 % interval (proposals resampled)")
    ax.axvline(base, color="black", linewidth=0.8, linestyle="--")
    ax.set_yticks(y, [f"{m}  (n={n})" for m, n in zip(table["model"], table["n"])])
    ax.set_xlabel("mean absolute error (points of the 0-100 scale)")
    ax.legend(loc="lower right", fontsize=7, frameon=False)
    ax.set_title("DEU III: error per model (blue protocols, grey reference solutions, orange tuned out of fold)",
                 fontsize=9)
    if caption:
        figure.text(0.0, -0.02, caption, fontsize=7, color="0.3", va="top")
    return figure


def predicted_figure(errors: pd.DataFrame, models: list[str], caption: str = ""):
    """Predicted against observed outcome per model (one panel each; dots jittered by 1 point)."""
    plt = _pyplot()
    columns = 4
    rows = int(np.ceil(len(models) / columns))
    figure, axes = plt.subplots(rows, columns, figsize=(2.6 * columns, 2.6 * rows), sharex=True, sharey=True,
                                squeeze=False)
    rng = np.random.default_rng(0)
    for ax, model in zip(axes.ravel(), models):
        own = errors[errors["model"] == model]
        jitter = rng.uniform(-1, 1, (2, len(own)))
        ax.scatter(own["outcome"] + jitter[0], own["predicted"] + jitter[1], s=5, alpha=0.45, color="#4c72b0")
        ax.plot([0, 100], [0, 100], color="black", linewidth=0.7)
        ax.set_title(f"{model} (n={len(own)}, MAE {own['error'].mean():.1f})", fontsize=8)
        ax.set_xlim(-3, 103)
        ax.set_ylim(-3, 103)
    for ax in axes.ravel()[len(models):]:
        ax.axis("off")
    for ax in axes[-1]:
        ax.set_xlabel("observed outcome", fontsize=8)
    for ax in axes[:, 0]:
        ax.set_ylabel("predicted", fontsize=8)
    if caption:
        figure.text(0.0, -0.01, caption, fontsize=7, color="0.3", va="top")
    figure.tight_layout()
    return figure
