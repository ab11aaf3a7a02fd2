"""Composed configs and small sweeps run in this process, for the tests of sweeps, blocks and scoring."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

from sim.domain.config import CONFIG_DIR, register_configs
from sim.runs.design import spec_from_config
from sim.runs.sweep import aggregate, execute, pending_shards, plan, prepare_folder

register_configs()

#: A small grid: two protocols x two values of Russia's war optimism, three replicates, shards of four.
SPEC = {
    "name": "t", "design": "grid", "replicates": 3, "seed": 5, "shard_size": 4,
    "parameters": {"protocol": {"values": ["eu", "offers"]},
                   "scenario.actors.russia.outside_option.optimism": {"values": [1.0, 3.0]}},
}


def base(overrides=()):
    """The composed config of ``experiments.run`` with these overrides, as plain data without its sweep."""
    with initialize_config_dir(version_base="1.3", config_dir=str(CONFIG_DIR)):
        cfg = compose(config_name="config", overrides=list(overrides))
    data = OmegaConf.to_container(cfg, resolve=True)
    data.pop("sweep", None)
    return data


def sweep(folder, spec=SPEC, workers=1, overrides=("scenario=jan2022_core", "rounds=8"), **changes):
    """Run the sweep ``spec`` (with ``changes``) into ``folder`` as ``experiments.sweep`` does; its runs table."""
    spec = spec_from_config({**spec, **changes})
    context = prepare_folder(plan(folder, spec, base(overrides)))
    execute(context, pending_shards(context), workers)
    aggregate(context)
    return pd.read_parquet(Path(folder) / "runs.parquet")
