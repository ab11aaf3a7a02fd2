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
