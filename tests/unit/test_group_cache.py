"""A group's file is cached by its content and its parents' (sim.runs.configs.load_group): an edited
parent is seen, and the other files of the folder are not read (a sweep over a folder of 353 scenarios
read every one of them for every point)."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.runs import configs

CHILD = "defaults:\n  - base\n  - _self_\nname: child\n"


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / f"{name}.yaml"
    path.write_text(text)
    return path


def test_the_digest_covers_the_file_and_its_parents_only(tmp_path, monkeypatch):
    child = write(tmp_path, "child", CHILD)
    base = write(tmp_path, "base", "defaults:\n  - root\nid: base\n")
    write(tmp_path, "root", "id: root\nx: 1\n")
    for index in range(20):
        write(tmp_path, f"other{index}", f"id: other{index}\n")
    before = configs._content_digest(child)
    read = []
    original = Path.read_bytes
    monkeypatch.setattr(Path, "read_bytes", lambda self: read.append(self.name) or original(self))
    assert configs._content_digest(child) == before
    assert read == ["child.yaml", "base.yaml", "root.yaml"]
    write(tmp_path, "other3", "id: changed\n")
    assert configs._content_digest(child) == before
    write(tmp_path, "root", "id: root\nx: 2\n")  # a grandparent edited: another digest
    assert configs._content_digest(child) != before
    base.write_text("id: base\n")
    assert configs._content_digest(child) != before


@pytest.mark.parametrize("text", ["defaults: [child]\nid: a\n", "defaults: {a: 1}\n", "defaults:\n  - missing\n",
                                  "defaults: [\n"])
def test_odd_defaults_are_hashed_not_followed_into_errors(tmp_path, text):
    path = write(tmp_path, "child", text)  # a cycle, a mapping, a missing parent, no YAML at all
    assert len(configs._content_digest(path)) == 64


def shipped_scenarios():
    return sorted(configs.CONFIG_DIR.glob("scenario/**/*.yaml"))


@pytest.mark.parametrize("path", shipped_scenarios(), ids=lambda p: str(p.relative_to(configs.CONFIG_DIR)))
def test_a_scenario_checked_without_omegaconf_is_omegaconfs_containers(path):
    """The fast path (configs.typed) decides every shipped scenario itself, and gives exactly OmegaConf's merge
    into the schema: keys in the same order, the same values of the same types (a config hash and every row
    depend on them)."""
    from sim.domain.config import ScenarioConfig

    fast = configs.typed(ScenarioConfig, configs.plain_with_defaults(path))
    assert _exactly(fast, configs.load_merged("scenario", path, True, str(path), None))


def _exactly(a, b) -> bool:
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(_exactly(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_exactly(x, y) for x, y in zip(a, b))
    return a == b or (a != a and b != b)


@pytest.mark.parametrize("text,key", [
    ("id: x\nissues: {i: {label: i, status_quo: 50}}\nactors: {a: {capability: high}}\n", "scenario.actors.a.capability"),
    ("id: x\nissues: {i: {label: i, status_quo: 50, colour: red}}\n", "scenario.issues.i.colour"),
    ("id: x\nissues: {i: {label: i}}\n", None),  # a required value left out: OmegaConf's "???", as before
    ("id: x\nid: y\n", None),  # a duplicate key: OmegaConf's loader names it
])
def test_what_the_fast_path_does_not_decide_goes_to_omegaconf(tmp_path, text, key):
    from sim.domain.errors import ConfigError

    path = write(tmp_path, "mine", text)
    try:
        want = configs.load_merged("scenario", path, True, str(path), None)
    except Exception as error:  # noqa: BLE001 - the same error either way
        with pytest.raises(type(error)) as raised:
            configs._load("scenario", path, True, str(path), None)
        assert str(raised.value) == str(error)
        if key:
            assert isinstance(error, ConfigError) and key in str(error)
        return
    assert _exactly(configs._load("scenario", path, True, str(path), None), want)


def test_whole_numbers_become_floats_where_the_schema_says_float(tmp_path):
    path = write(tmp_path, "mine", "id: x\nissues: {i: {label: i, status_quo: 50, scale: [0, 10]}}\n"
                                   "actors: {a: {capability: 2, position: {i: 3}, salience: {i: 1}}}\n")
    fast = configs._load("scenario", path, True, str(path), None)
    assert fast["issues"]["i"]["status_quo"] == 50.0 and isinstance(fast["issues"]["i"]["status_quo"], float)
    assert isinstance(fast["actors"]["a"]["position"]["i"], float) and fast["issues"]["i"]["scale"] == [0.0, 10.0]
    assert _exactly(fast, configs.load_merged("scenario", path, True, str(path), None))
