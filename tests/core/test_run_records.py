"""Run folders read back as history records; renamed and deleted safely; short network summaries."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from studio.core.engine import Trainer
from studio.core.presets import load_preset
from studio.core.project import LayerSpec
from studio.core.run_records import (
    NAME_FILE,
    RunFolderError,
    delete_run,
    param_count,
    read_record,
    rename_run,
    saved_records,
)
from studio.core.runs import new_run_folder, save_run
from studio.core.summary import derived_name, format_count, network_summary


def _saved_run(root: Path, epochs: int = 2) -> Path:
    project = load_preset("digits-mlp")
    project.data.subset_per_class = 5
    project.training.epochs = epochs
    trainer = Trainer(project)
    end = trainer.fit()
    return save_run(new_run_folder(root, project), project, trainer.model, end)


def test_a_run_folder_reads_back_as_a_record_with_its_curve(tmp_path: Path) -> None:
    folder = _saved_run(tmp_path)
    record = read_record(folder, 4)
    assert record.id == 4 and record.folder == folder and record.name == folder.name
    assert [e.epoch for e in record.epochs] == [1, 2] and record.reason == "completed"
    assert record.batch_epochs == [1.0, 2.0] and record.batch_losses == [e.train_loss for e in record.epochs]
    assert record.final is not None and record.final.val_acc is not None and math.isfinite(record.final.val_loss)
    assert record.param_count == 64 * 128 + 128 + 128 * 64 + 64 + 64 * 10 + 10
    assert record.project.training.epochs == 2


def test_saved_records_skip_broken_folders_and_number_from_first_id(tmp_path: Path) -> None:
    _saved_run(tmp_path, epochs=1)
    broken = tmp_path / "20000101-000000-broken"
    broken.mkdir()
    (broken / "project.json").write_text("{not json", encoding="utf-8")
    (tmp_path / "20000101-000001-training").mkdir()  # a run still training: no project.json yet
    records = saved_records(tmp_path, first_id=10)
    assert [r.id for r in records] == [10] and saved_records(tmp_path / "missing") == []


def test_rename_keeps_the_folder_and_survives_a_reread(tmp_path: Path) -> None:
    folder = _saved_run(tmp_path, epochs=1)
    assert rename_run(folder, "  my   best\nrun ") == "my best run"
    assert read_record(folder, 1).name == "my best run" and folder.is_dir()
    assert rename_run(folder, "   ") == folder.name  # an empty name falls back to the folder's
    with pytest.raises(RunFolderError):
        rename_run(tmp_path, "x")
    assert (folder / NAME_FILE).is_file()


def test_delete_refuses_anything_but_a_run_folder_in_the_root(tmp_path: Path) -> None:
    root = tmp_path / "runs"
    folder = _saved_run(root, epochs=1)
    elsewhere = tmp_path / "mine"
    elsewhere.mkdir()
    (elsewhere / "project.json").write_text("{}", encoding="utf-8")
    with pytest.raises(RunFolderError, match="not in the runs folder"):
        delete_run(elsewhere, root)
    plain = root / "notes"
    plain.mkdir()
    with pytest.raises(RunFolderError, match="not a run folder"):
        delete_run(plain, root)
    delete_run(folder, root)
    assert not folder.exists() and elsewhere.is_dir() and plain.is_dir()


def test_param_count_ignores_batch_norm_buffers_and_missing_weights(tmp_path: Path) -> None:
    assert param_count(tmp_path) is None
    project = load_preset("digits-mlp")
    project.model.layers.insert(1, LayerSpec("BatchNorm1d"))
    project.data.subset_per_class = 2
    project.training.epochs = 1
    trainer = Trainer(project)
    folder = save_run(tmp_path / "run", project, trainer.model, trainer.fit())
    assert param_count(folder) == sum(p.numel() for p in trainer.model.parameters())


def test_network_summaries_and_derived_names() -> None:
    project = load_preset("digits-mlp")
    assert network_summary(project) == "Linear×2 → Linear 10"
    assert network_summary(project, 61_234) == "Linear×2 → Linear 10, 61k params"
    assert derived_name(project) == "digits: Linear×2 → Linear 10"
    project.model.layers = project.model.layers[-1:]
    assert network_summary(project, 650) == "Linear 10, 650 params"
    assert [format_count(n) for n in (950, 8_330, 61_234, 1_250_000)] == ["950", "8.3k", "61k", "1.2M"]
