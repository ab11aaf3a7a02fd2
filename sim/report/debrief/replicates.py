"""The model agents in every seat over replicates of a game's config: what a person's result in a seat is
compared with."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from omegaconf import OmegaConf

from sim.runs.configs import load_config

REPLICATE_NOISE = 0.05  # belief noise for the model agent's replicates when the game's protocol has none


def replicate_settings(cfg) -> dict:
    """Protocol settings for the model agent's replicates: the game's own, with belief noise
    ``REPLICATE_NOISE`` when the game's protocol has no randomness (round-robin order, no noise), so
    that the replicates differ (they would all repeat one run)."""
    protocol = cfg.protocol
    noise = float(protocol.get("belief_noise", 0.0) or 0.0)
    order = str(protocol.get("order", ""))
    if "belief_noise" in protocol and noise == 0.0 and order != "recognition":
        noise = REPLICATE_NOISE
    return {"belief_noise": noise, "order": order}


def model_replicates(folder: Path, runs: pd.DataFrame, replicates: int) -> pd.DataFrame:
    """The model agents in every seat over ``replicates`` runs of the folder's config, seeds spawned
    from the game's seed (``sim.runs.sweep.run_seeds``); belief noise per :func:`replicate_settings`.
    One row per run (the runs.parquet columns) plus ``replicate``, ``seed``, ``belief_noise``."""
    from sim.runs.runner import run_config
    from sim.runs.design import run_seeds

    cfg = OmegaConf.create(load_config(folder / "config.yaml"))
    cfg.record.rounds, cfg.record.events = False, False
    settings = replicate_settings(cfg)
    if "belief_noise" in cfg.protocol:
        cfg.protocol.belief_noise = settings["belief_noise"]
    rows = []
    for index, seed in enumerate(run_seeds(int(runs.iloc[0]["seed"]), replicates)):
        cfg.seed = int(seed)
        row = run_config(cfg).runs.iloc[0].to_dict()
        row.update(replicate=index, seed=int(seed), belief_noise=settings["belief_noise"])
        rows.append(row)
    return pd.DataFrame(rows)

