"""The project document: JSON round-trip, migration, corrupt files, atomic saving."""

import json
import os
import re

import pytest

from studio.core import project as doc
from studio.core.errors import ProjectFileError
from studio.core.io import atomic_path, atomic_write_text
from studio.core.project import LayerSpec, Project, load_project, save_project


def sample() -> Project:
    p = Project(name="t")
    p.model.layers = [LayerSpec("Linear", {"out_features": 8}, init="xavier_normal"), LayerSpec("ReLU", frozen=True)]
    p.training.target_loss = 0.01
    return p


def test_round_trip_through_file(tmp_path):
    path = tmp_path / "p.json"
    save_project(path, sample())
    assert load_project(path) == sample()
    assert json.loads(path.read_text())["schema_version"] == doc.SCHEMA_VERSION


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ('{"schema_version": 1, "model": {"layers": [', "not valid JSON"),
        ("[1, 2]", "JSON object"),
        ('{"name": "x"}', "schema_version"),
        ('{"schema_version": 99}', "newer Training Studio"),
        ('{"schema_version": 1, "modle": {}}', 'the project: unknown key "modle"'),
        ('{"schema_version": 1, "model": {"layers": [{"params": {}}]}}', 'model.layers[0] (layer 1) needs "type"'),
        ('{"schema_version": 1, "model": {"layers": 3}}', "model.layers must be a list, not 3"),
    ],
)
def test_bad_files_give_one_clear_error(tmp_path, text, words):
    path = tmp_path / "bad.json"
    path.write_text(text)
    with pytest.raises(ProjectFileError, match=re.escape(words)):
        load_project(path)


def test_missing_file(tmp_path):
    with pytest.raises(ProjectFileError, match="not found"):
        load_project(tmp_path / "nope.json")


def test_migrations_run_in_order(monkeypatch):
    monkeypatch.setattr(doc, "SCHEMA_VERSION", 3)
    calls = []

    def step(version):
        def upgrade(data):
            calls.append(version)
            return {**data, "description": data.get("description", "") + f"v{version}"}

        return upgrade

    monkeypatch.setattr(doc, "MIGRATIONS", {1: step(1), 2: step(2)})
    project = Project.from_dict({"schema_version": 1})
    assert calls == [1, 2]
    assert project.description == "v1v2"


# A file as version 1 wrote it (the checkpoint settings were called snapshots then).
VERSION_1_FILE = """{
  "schema_version": 1,
  "name": "old run",
  "model": {"layers": [{"type": "Linear", "params": {"out_features": 4}}]},
  "training": {"epochs": 3, "snapshot_every": 2, "keep_snapshots": 5}
}
"""


def test_a_version_1_file_opens_with_its_checkpoint_settings_renamed(tmp_path):
    path = tmp_path / "old.json"
    path.write_text(VERSION_1_FILE, encoding="utf-8")
    project = load_project(path)
    assert (project.training.checkpoint_every, project.training.keep_checkpoints) == (2, 5)
    assert project.name == "old run" and project.training.epochs == 3
    save_project(path, project)
    saved = json.loads(path.read_text())
    assert saved["schema_version"] == doc.SCHEMA_VERSION == 2
    assert saved["training"]["checkpoint_every"] == 2 and "snapshot_every" not in saved["training"]


def test_a_version_1_file_without_checkpoint_settings_gets_the_defaults():
    project = Project.from_dict({"schema_version": 1, "training": {"epochs": 4}})
    assert (project.training.checkpoint_every, project.training.keep_checkpoints) == (0, 3)


def test_a_version_2_file_with_the_old_name_is_refused_naming_it():
    with pytest.raises(ProjectFileError, match="snapshot_every"):
        Project.from_dict({"schema_version": 2, "training": {"snapshot_every": 1}})


def test_atomic_write_keeps_old_file_on_failure(tmp_path):
    path = tmp_path / "f.txt"
    atomic_write_text(path, "old")
    with pytest.raises(RuntimeError), atomic_path(path) as tmp:
        tmp.write_text("half")
        raise RuntimeError("crash while writing")
    assert path.read_text() == "old"
    assert os.listdir(tmp_path) == ["f.txt"]
