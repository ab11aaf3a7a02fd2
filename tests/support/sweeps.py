"""Composed configs, small sweeps run in this process and sweep folders with a planted outcome, for the tests
of sweeps, blocks, scoring and scenario discovery."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

from sim.domain.config import CONFIG_DIR, register_configs
from sim.runs.design import run_table, spec_from_config
from sim.runs.sweep import aggregate, design_hash, execute, pending_shards, plan, prepare_folder

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
    """Run the sweep ``spec`` (with ``changes``) into ``folder`` as ``experiments.sweep`` does; returns its
    runs table."""
    spec = spec_from_config({**spec, **changes})
    context = prepare_folder(plan(folder, spec, base(overrides)))
    execute(context, pending_shards(context), workers)
    aggregate(context)
    return pd.read_parquet(Path(folder) / "runs.parquet")


def planted_sweep_folder(folder: Path, outcome: str = "planted") -> Path:
    """A sweep folder as experiments.sweep writes it (design.json, runs.parquet with the parameter
    columns, seeds and outcome columns), from the real design code, without running anything: the
    outcome is planted (agreement where Russia's package maximum is above 58 and its war optimism below
    1.8; ``outcome="never"``: no agreement anywhere)."""
    spec = spec_from_config({
        "name": "planted", "design": "lhs", "samples": 400, "seed": 3, "outputs": ["agreement"],
        "parameters": {"scenario.actors.russia.outside_option.optimism": {"low": 0.5, "high": 2.5},
                       "scenario.actors.russia.package.max": {"low": 35, "high": 70},
                       "protocol": {"values": ["offers", "exchange"]}}})
    runs = run_table(spec)
    optimism, package = runs.iloc[:, 4], runs.iloc[:, 5]
    agreement = (package > 58) & (optimism < 1.8) if outcome == "planted" else pd.Series(False, index=runs.index)
    runs = runs.assign(agreement=agreement.to_numpy(), bargaining_range=np.where(agreement, 0.1, 0.0),
                       breakdown_cause=np.where(agreement, "", "deadline"))
    folder.mkdir(parents=True)
    (folder / "design.json").write_text(json.dumps({"design_hash": design_hash(spec, {}), "spec": spec.to_dict()}))
    runs.to_parquet(folder / "runs.parquet", index=False)
    return folder
