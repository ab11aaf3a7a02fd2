"""Reading config files outside a command line's own composition: the one place that does.

* a group's file by name or path (``scenario``, ``protocol``, ``strategy``, ...): :func:`load_group`
  (a scenario's ``defaults`` inheritance resolved, the group's schema applied as Hydra applies it);
* a composed config saved as YAML (a results folder's ``config.yaml``): :func:`load_config`;
* ``configs/config.yaml`` composed with overrides, as a command composes it: :func:`compose_config`;
* what a command's composed config holds for its runs (:func:`base_config`) and the user's own config
  directories on Hydra's search path (:func:`user_config_dirs`).
"""

from __future__ import annotations

import copy
import hashlib
import re
import threading
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from sim.domain.cache import BoundedCache
from sim.domain.config import CONFIG_DIR
from sim.domain.errors import ConfigError

#: Keys of a composed config that are not the runs' (Hydra's own, a sweep's, presentation).
NOT_FOR_RUNS = ("hydra", "sweep", "figures", "level")


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


# --------------------------------------------------------------------------------------------------
# A group's file
# --------------------------------------------------------------------------------------------------


def group_names(group: str, config_dirs: Sequence[Path | str] = ()) -> list[str]:
    """The names ``<group>=<name>`` takes: every YAML file under ``configs/<group>/`` (and the user's
    config dirs), subfolders included (``classroom/jan2022``)."""
    dirs = [Path(d) for d in config_dirs] + [CONFIG_DIR]
    return sorted({str(p.relative_to(d / group).with_suffix("")) for d in dirs if (d / group).is_dir()
                   for p in (d / group).rglob("*.yaml")})


def group_file(group: str, name_or_path: str | Path, config_dirs: Sequence[Path | str] = ()) -> Path:
    """The file of ``<group>=<name_or_path>``: a path ending in ``.yaml`` / ``.yml`` as given, else
    ``<name>.yaml`` in the user's config dirs first, then in ``configs/<group>/`` (Hydra's search path).

    Raises:
        ConfigError: no such file; the line lists the names the group has.
    """
    given = Path(name_or_path)
    if given.suffix in (".yaml", ".yml"):
        candidates = [given]
    else:
        candidates = [Path(d) / group / f"{name_or_path}.yaml" for d in [*config_dirs, CONFIG_DIR]]
    path = next((c for c in candidates if c.exists()), None)
    if path is None:
        raise ConfigError(f"configs/{group}", group, f"unknown {group} {str(name_or_path)!r}; allowed: "
                                                     f"{', '.join(group_names(group, config_dirs))}")
    return path


def load_group(group: str, name_or_path: str | Path, *, config_dirs: Sequence[Path | str] = (),
               source: str | None = None, overrides: Mapping[str, Any] | None = None,
               checked: bool = True) -> dict[str, Any]:
    """A group's file (:func:`group_file`) as plain containers, as ``<group>=<name>`` composes it: a
    scenario's ``defaults`` inheritance resolved, a ``defaults`` list dropped and, ``checked``, merged
    into its schema (a scenario's, a protocol's ``Params``) for its defaults and type checks.

    Args:
        overrides: dotted keys inside the group's node, e.g. ``{"actors.russia.capability": 0.6}``.
        source: the file named in error messages (default: the file's path).
        checked: False gives the file's own keys only (no schema defaults).

    Raises:
        ConfigError: unknown name, or a value the schema refuses (naming ``<group>.<key>``).
    """
    path = group_file(group, name_or_path, config_dirs)
    source = source or str(path)
    if overrides:
        return _load(group, path, checked, source, overrides)
    # Cached by content: the file and the files it inherits from (a scenario inherits only from files beside
    # it). Every design point loads its own; a scenario takes a few ms (:func:`typed`; OmegaConf's merge into
    # the schema took 0.1-0.2 s).
    key = (group, str(path), checked, _content_digest(path))
    return _GROUPS.get_or_compute(key, lambda: _load(group, path, checked, source, None))


_GROUPS = BoundedCache("sim.runs.configs.load_group", 256, copy=copy.deepcopy)  # handed out as copies


def _content_digest(path: Path) -> str:
    """The file's content and that of the files it inherits from (its ``defaults`` beside it, theirs, ...).
    Only those: hashing every YAML file of the folder, as before, made a sweep over the 353 scenarios of one
    folder read the whole folder for every point."""
    digest = hashlib.sha256()
    pending, seen = [path], set()
    while pending:
        file = pending.pop(0)
        if file in seen or not file.is_file():
            continue  # a missing parent: load_with_defaults names it
        seen.add(file)
        data = file.read_bytes()
        digest.update(file.name.encode() + b"\0" + data + b"\0")
        pending.extend(file.parent / f"{name}.yaml" for name in _defaults_of(data))
    return digest.hexdigest()


def _defaults_of(data: bytes) -> list[str]:
    """The names in a YAML file's top-level ``defaults`` list (``_self_`` left out); [] when it has none or
    does not parse (loading it then says why)."""
    if b"defaults" not in data:
        return []
    import yaml

    try:
        node = yaml.load(data, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError:
        return []
    entries = node.get("defaults") if isinstance(node, dict) else None
    return [str(e) for e in entries if isinstance(e, str) and e != "_self_"] if isinstance(entries, list) else []


def _load(group: str, path: Path, checked: bool, source: str,
          overrides: Mapping[str, Any] | None) -> dict[str, Any]:
    if group == "scenario" and checked and not overrides:
        from sim.domain.config import ScenarioConfig

        try:  # the same containers without OmegaConf's merge (0.1-0.5 s a scenario); anything unusual: its path
            return typed(ScenarioConfig, plain_with_defaults(path))
        except Exception:  # noqa: BLE001 - _Unusual, or a file that does not parse: OmegaConf's own error below
            pass
    return load_merged(group, path, checked, source, overrides)


def load_merged(group: str, path: Path, checked: bool, source: str,
                overrides: Mapping[str, Any] | None) -> dict[str, Any]:
    """A group's file merged into its schema by OmegaConf, as Hydra composes ``<group>=<name>`` (the
    reference :func:`typed` is checked against, and the path of every file it does not decide)."""
    from omegaconf import OmegaConf
    from omegaconf.errors import OmegaConfBaseException

    from sim.domain.config import ScenarioConfig
    from sim.domain.protocol_params import PARAMS


    node = load_with_defaults(path) if group == "scenario" else OmegaConf.load(path)
    node.pop("defaults", None)
    schema = (ScenarioConfig if group == "scenario" else PARAMS.get(path.stem)) if checked else None
    try:  # the schema's defaults and checks, exactly as Hydra composes ``<group>=<name>``
        node = OmegaConf.merge(OmegaConf.structured(schema), node) if schema is not None else node
        for key, value in (overrides or {}).items():
            OmegaConf.update(node, key, value, merge=True)
    except OmegaConfBaseException as error:
        key = getattr(error, "full_key", None) or "?"
        raise ConfigError(source, f"{group}.{key}", str(error).splitlines()[0]) from None
    return OmegaConf.to_container(node, resolve=True)


# --------------------------------------------------------------------------------------------------
# Composed configs
# --------------------------------------------------------------------------------------------------


def load_config(path: Path, missing_ok: bool = False) -> dict[str, Any]:
    """A composed config saved as YAML (a results folder's ``config.yaml``) as plain resolved containers;
    ``{}`` for a file that does not exist when ``missing_ok``.

    A results folder may come from someone else: its config is data, not instructions. It was saved
    resolved, so it holds no resolver calls; one that does (``${oc.env:...}``, ``${oc.decode:...}``, any
    ``${name:...}``) is refused, not evaluated: no value is read from this machine's environment or files.
    References to other keys (``${scenario.id}``) are resolved as usual.

    Raises:
        ConfigError: naming the file and the first key whose value calls a resolver.
    """
    from omegaconf import OmegaConf
    from omegaconf.errors import OmegaConfBaseException

    path = Path(path)
    if missing_ok and not path.exists():
        return {}
    node = OmegaConf.load(path)
    for key, value in _leaves(OmegaConf.to_container(node, resolve=False)):
        match = _RESOLVER.search(value) if isinstance(value, str) else None
        if match:
            raise ConfigError(str(path), key, f"refused {value!r}: a results folder's config is data; the resolver "
                                              f"{match.group(1)!r} (which could read this machine's environment or "
                                              "files) is not evaluated")
    try:
        return OmegaConf.to_container(node, resolve=True)
    except OmegaConfBaseException as error:
        raise ConfigError(str(path), getattr(error, "full_key", None) or "?",
                          str(error).splitlines()[0]) from None


#: A resolver call inside an interpolation: ``${oc.env:HOME}``, ``${now:}``, ``${a:${b:c}}``.
_RESOLVER = re.compile(r"\$\{\s*([A-Za-z_][\w.]*)\s*:")


def _leaves(data: Any, prefix: str = "") -> Iterable[tuple[str, Any]]:
    """(dotted key, value) of every leaf of plain containers."""
    if isinstance(data, Mapping):
        for key, value in data.items():
            yield from _leaves(value, f"{prefix}{key}.")
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from _leaves(value, f"{prefix}{index}.")
    else:
        yield prefix[:-1], data


_COMPOSE_LOCK = threading.Lock()  # Hydra's compose API keeps global state: one composition at a time


def compose_config(overrides: Iterable[str] = ()) -> Any:
    """``configs/config.yaml`` composed with these command-line overrides by Hydra's compose API: the
    DictConfig ``python -m experiments.run <overrides>`` would see."""
    from hydra import compose, initialize_config_dir

    from sim.domain.config import register_configs

    register_configs()
    with _COMPOSE_LOCK, initialize_config_dir(version_base="1.3", config_dir=str(CONFIG_DIR)):
        return compose(config_name="config", overrides=list(overrides))


def base_config(cfg: Any, also: Sequence[str] = ()) -> dict[str, Any]:
    """The composed config every run of a sweep (or calibration) starts from, as plain containers: without
    Hydra's and the sweep's own settings and figures (presentation only, may change on re-plot), nor the
    keys ``also`` names (``calibrate``)."""
    from omegaconf import DictConfig, OmegaConf

    data = OmegaConf.to_container(cfg, resolve=True) if isinstance(cfg, DictConfig) else dict(cfg)
    for key in (*NOT_FOR_RUNS, *also):
        data.pop(key, None)
    return data


def user_config_dirs(config_sources: Iterable[Any]) -> list[Path]:
    """The user's config directories among Hydra's config sources (``--config-dir``, ``hydra.searchpath``:
    ``HydraConfig.get().runtime.config_sources``), so that a swept ``scenario: {values: [mine]}`` finds the
    user's file as the command line did."""
    return [Path(s.path) for s in config_sources
            if s.schema == "file" and Path(s.path).resolve() != CONFIG_DIR.resolve()]


# --------------------------------------------------------------------------------------------------
# A scenario file into its schema without OmegaConf (the fast path of _load)
# --------------------------------------------------------------------------------------------------


class _Unusual(Exception):
    """Something :func:`typed` does not decide itself (a conversion, an interpolation, a mistake): OmegaConf's
    merge then does, with its error messages."""


def plain_with_defaults(path: Path) -> dict[str, Any]:
    """:func:`load_with_defaults` as plain containers, parsed with OmegaConf's YAML loader and merged as
    OmegaConf merges untyped nodes (mappings key by key, anything else replaced)."""
    import yaml

    with open(path, encoding="utf-8") as handle:
        data = yaml.load(handle, Loader=_yaml_loader())
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise _Unusual
    parents = data.pop("defaults", None)
    if not parents:
        return data
    merged: dict[str, Any] = {}
    own_merged = False
    for entry in parents:
        if entry == "_self_":
            merged, own_merged = _merge(merged, data), True
        else:
            parent = path.parent / f"{entry}.yaml" if isinstance(entry, str) else None
            if parent is None or not parent.exists():
                raise _Unusual
            merged = _merge(merged, plain_with_defaults(parent))
    return merged if own_merged else _merge(merged, data)


_LOADER: list[Any] = []


def _yaml_loader() -> Any:
    """OmegaConf's YAML loader (its float and no-timestamp resolvers, its constructors) on libyaml's parser
    where there is one: the same values, parsed several times faster. A duplicate key raises (OmegaConf's
    loader then names it)."""
    if not _LOADER:
        import yaml
        from omegaconf._utils import get_yaml_loader

        omega = get_yaml_loader()

        class Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
            def construct_mapping(self, node: Any, deep: bool = False) -> Any:
                keys = [k.value for k, _ in node.value if k.tag == yaml.resolver.BaseResolver.DEFAULT_SCALAR_TAG]
                if len(keys) != len(set(keys)):
                    raise _Unusual
                return super().construct_mapping(node, deep=deep)

        Loader.yaml_implicit_resolvers = {k: list(v) for k, v in omega.yaml_implicit_resolvers.items()}
        Loader.yaml_constructors = dict(omega.yaml_constructors)
        _LOADER.append(Loader)
    return _LOADER[0]


def _merge(base: dict[str, Any], other: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in other.items():
        out[key] = _merge(out[key], value) if isinstance(out.get(key), dict) and isinstance(value, dict) \
            else copy.deepcopy(value)
    return out


def typed(schema: Any, data: Any) -> Any:
    """``OmegaConf.to_container(OmegaConf.merge(OmegaConf.structured(schema), data))`` for the plain data a
    valid file gives: the schema's defaults filled in, its fields in its order, a whole number in a float's
    place made a float. Raises :class:`_Unusual` for anything else (unknown keys, wrong types, a missing
    required value, interpolations), which the caller leaves to OmegaConf."""
    import dataclasses
    import typing

    from omegaconf import MISSING

    if data is None:
        return None
    if not isinstance(data, dict) or not all(isinstance(k, str) for k in data):
        raise _Unusual
    hints = _hints(schema)
    names = [f.name for f in dataclasses.fields(schema)]
    if set(data) - set(names):
        raise _Unusual
    out = {}
    for f in dataclasses.fields(schema):
        if f.name in data:
            out[f.name] = _value(hints[f.name], data[f.name])
        elif f.default is not dataclasses.MISSING:
            if f.default == MISSING:
                raise _Unusual
            out[f.name] = _value(hints[f.name], f.default)
        else:
            out[f.name] = _value(hints[f.name], f.default_factory())
    return out


def _hints(schema: Any) -> dict[str, Any]:
    import typing

    if schema not in _HINTS:
        _HINTS[schema] = typing.get_type_hints(schema)
    return _HINTS[schema]


_HINTS: dict[Any, dict[str, Any]] = {}


def _value(hint: Any, value: Any) -> Any:
    import dataclasses
    import typing

    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is typing.Union:  # Optional[X]
        if value is None:
            return None
        (inner,) = [a for a in args if a is not type(None)]
        return _value(inner, value)
    if value is None:
        raise _Unusual  # None where the schema wants a value: OmegaConf says so
    if dataclasses.is_dataclass(hint):
        return typed(hint, dataclasses.asdict(value) if dataclasses.is_dataclass(value) else value)
    if origin is dict:
        if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
            raise _Unusual
        return {k: _value(args[1], v) for k, v in value.items()}
    if origin is list:
        if not isinstance(value, list):
            raise _Unusual
        return [_value(args[0], v) for v in value]
    if hint is Any:
        return _plain_any(value)
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise _Unusual
        return float(value)
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise _Unusual
        return value
    if hint is bool or hint is str:
        if type(value) is not hint or (hint is str and "${" in value):
            raise _Unusual
        return value
    raise _Unusual


def _plain_any(value: Any) -> Any:
    """An untyped value as OmegaConf hands it back: containers copied, interpolations left to OmegaConf."""
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            raise _Unusual
        return {k: _plain_any(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain_any(v) for v in value]
    if isinstance(value, str) and "${" in value:
        raise _Unusual
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise _Unusual
