"""The model agents in every seat over replicates of a game's config: what a person's result in a seat is
compared with."""

from __future__ import annotations

import json
import threading
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


def model_replicates(folder: Path, runs: pd.DataFrame, replicates: int, cached: bool = True) -> pd.DataFrame:
    """The model agents in every seat over ``replicates`` runs of the folder's config, seeds spawned
    from the game's seed (``sim.runs.sweep.run_seeds``); belief noise per :func:`replicate_settings`.
    One row per run (the runs.parquet columns) plus ``replicate``, ``seed``, ``belief_noise``.
    ``cached=False`` runs them anew (``experiments.reproduce`` checks the saved runs against new ones)."""
    config, seed = load_config(folder / "config.yaml"), int(runs.iloc[0]["seed"])
    return replicate_runs(config, seed, replicates) if cached else _compute(config, seed, replicates)


_CACHE: dict[str, pd.DataFrame] = {}  # key -> runs: a game setting's runs, computed once per process
_BUSY: dict[str, threading.Lock] = {}  # key -> held while one thread computes them
_GUARD = threading.Lock()
CACHED = 64  # settings kept (a class uses a few: the seeds its students chose)


def replicate_runs(config: dict, seed: int, replicates: int) -> pd.DataFrame:
    """:func:`model_replicates` of a config (as plain containers) and a game seed. The runs depend on
    nothing else, so they are computed once per process and setting (the classroom server: the students
    who play the same scenario and seed share them), and a second caller waits for the first."""
    key = json.dumps([config, int(seed), int(replicates)], sort_keys=True, default=str)
    with _GUARD:
        lock = _BUSY.setdefault(key, threading.Lock())
    with lock:
        if key not in _CACHE:
            runs = _compute(config, int(seed), int(replicates))
            with _GUARD:
                while len(_CACHE) >= CACHED:
                    _CACHE.pop(next(iter(_CACHE)))
                _CACHE[key] = runs
        return _CACHE[key].copy()


def _compute(config: dict, seed: int, replicates: int) -> pd.DataFrame:
    from sim.runs.runner import run_config
    from sim.runs.design import run_seeds

    cfg = OmegaConf.create(config)
    cfg.record.rounds, cfg.record.events = False, False
    settings = replicate_settings(cfg)
    if "belief_noise" in cfg.protocol:
        cfg.protocol.belief_noise = settings["belief_noise"]
    rows = []
    for index, run_seed in enumerate(run_seeds(seed, replicates)):
        cfg.seed = int(run_seed)
        row = run_config(cfg).runs.iloc[0].to_dict()
        row.update(replicate=index, seed=int(run_seed), belief_noise=settings["belief_noise"])
        rows.append(row)
    return pd.DataFrame(rows)
