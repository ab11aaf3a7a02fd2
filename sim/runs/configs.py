"""Reading config-group files (scenario, sweep, calibrate, observed, protocol) outside Hydra's composition."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sim.domain.errors import ConfigError


def load_with_defaults(path: Path) -> Any:
    """A scenario YAML with Hydra's inheritance inside its group resolved: ``defaults: [jan2022, _self_]``
    merges ``jan2022.yaml`` from the same folder first (as ``scenario=<name>`` composes it)."""
    from omegaconf import OmegaConf

    node = OmegaConf.load(path)
    parents = node.pop("defaults", None) if hasattr(node, "pop") else None
    if not parents:
        return node
    merged = OmegaConf.create()
    own_merged = False
    for entry in parents:
        if entry == "_self_":
            merged, own_merged = OmegaConf.merge(merged, node), True
        else:
            parent = path.parent / f"{entry}.yaml"
            if not parent.exists():
                raise ConfigError(str(path), "defaults", f"no scenario {entry!r} beside this file")
            merged = OmegaConf.merge(merged, load_with_defaults(parent))
    return merged if own_merged else OmegaConf.merge(merged, node)
