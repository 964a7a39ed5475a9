"""Every project is checked against its own JSON Schema before anything is applied (issue 16, point 3).

Wrong types, out-of-range counts and hostile JSON (huge numbers, deep nesting, duplicate keys) are
refused with one line per problem that names the field; everything the app writes is accepted.
"""

from __future__ import annotations

import json
from importlib.resources import files

import pytest
from jsonschema import Draft202012Validator

from studio.cli import main as cli_main
from studio.core.errors import ConfigError, InvalidProjectError, ProjectFileError
from studio.core.layers import LAYERS
from studio.core.optim import OPTIMIZERS, SCHEDULES
from studio.core.params import defaults
from studio.core.presets import load_preset, preset_names
from studio.core.project import LayerSpec, Project, load_project, save_project
from studio.core.schema import project_schema
from studio.core.validate import check_project, validate_project

PRESETS = files("studio") / "resources" / "presets"


def preset_dict(name: str = "digits-mlp") -> dict:
    return json.loads((PRESETS / f"{name}.json").read_text(encoding="utf-8"))


def write(tmp_path, data, name="p.json") -> str:
    path = tmp_path / name
    path.write_text(json.dumps(data) if not isinstance(data, str) else data, encoding="utf-8")
    return str(path)


def test_the_schema_is_valid_draft_2020_12():
    Draft202012Validator.check_schema(project_schema())


@pytest.mark.parametrize("name", preset_names())
def test_every_preset_passes(name):
    validate_project(preset_dict(name))


def test_everything_the_app_writes_passes(tmp_path):
    """The default project, every layer type, optimizer and schedule at its defaults, saved and read back."""
    project = Project()
    project.model.layers = [LayerSpec(name, defaults(kind.params)) for name, kind in LAYERS.items()]
    project.model.layers[0].init = "orthogonal"
    project.training.target_loss = 0.05
    project.training.early_stopping_patience = 3
    for optimizer in OPTIMIZERS.names():
        for schedule in SCHEDULES.names():
            project.optimizer.name, project.optimizer.params = optimizer, defaults(OPTIMIZERS.get(optimizer).params)
            project.schedule.name, project.schedule.params = schedule, defaults(SCHEDULES.get(schedule).params)
            check_project(project)
    path = tmp_path / "saved.json"
    save_project(path, project)
    assert load_project(path) == project


@pytest.mark.parametrize(
    ("section", "key", "value", "words"),
    [
        ("training", "epochs", "ten", 'training.epochs must be a whole number, not "ten"'),
        ("training", "batch_size", 3.5, "training.batch_size must be a whole number, not 3.5"),
        ("training", "batch_size", 3.0, "training.batch_size must be a whole number, not 3.0"),
        ("training", "seed", "abc", 'training.seed must be a whole number, not "abc"'),
        ("training", "shuffle", "no", 'training.shuffle must be true or false, not "no"'),
        ("training", "epochs", 0, "training.epochs must be at least 1; got 0"),
        ("training", "keep_checkpoints", -3, "training.keep_checkpoints must be at least 1; got -3"),
        ("training", "checkpoint_every", None, "training.checkpoint_every must be a whole number, not null"),
        ("training", "target_loss", "low", 'training.target_loss must be a finite number or null (off), not "low"'),
        ("training", "device", "tpu", 'training.device must be auto, cpu, cuda, cuda:N (one GPU) or mps; got "tpu"'),
        ("training", "precision", "fp8", "training.precision must be one of: fp32, bf16, fp16"),
        ("training", "early_stopping_patience", 1.5, "early_stopping_patience must be a whole number or null"),
        ("data", "val_fraction", 1, "data.val_fraction must be below 1; got 1"),
        ("data", "dataset", 7, "data.dataset must be text, not 7"),
        ("data", "params", [1], "data.params must be an object ({...}), not [1]"),
        ("schedule", "name", "warp", "schedule.name must be one of:"),
        ("optimizer", "params", {"lr": "fast"}, 'optimizer.params.lr must be a finite number, not "fast"'),
        ("optimizer", "params", {"lr": 0}, "optimizer.params.lr must be at least 1e-06; got 0"),
        ("optimizer", "params", {"speed": 1}, 'optimizer.params: unknown key "speed"; the keys are: lr'),
        ("model", "layers", 3.5, "model.layers must be a list, not 3.5"),
        ("model", "init_params", {"gain": "big"}, "model.init_params: unknown key"),
        ("training", "stats_every", 10**30, "training.stats_every must be at most 1e+09"),
    ],
)
def test_wrong_values_are_refused_naming_the_field(tmp_path, section, key, value, words):
    data = preset_dict()
    data[section][key] = value
    with pytest.raises(InvalidProjectError) as caught:
        load_project(write(tmp_path, data))
    assert words in str(caught.value)
    assert caught.value.field is not None and key in caught.value.field
    assert isinstance(caught.value, ConfigError) and isinstance(caught.value, ProjectFileError)


def test_layer_settings_are_checked_per_type(tmp_path):
    data = preset_dict()
    data["model"]["layers"][0]["params"] = {"out_features": "many"}
    data["model"]["layers"][1]["type"] = "Linear"
    data["model"]["layers"][1]["params"] = {"p": 0.5}
    with pytest.raises(InvalidProjectError) as caught:
        load_project(write(tmp_path, data))
    lines = str(caught.value).splitlines()
    assert len(lines) == 2, lines
    assert 'model.layers[0].params.out_features (layer 1, Linear) must be a whole number, not "many"' in lines[0]
    assert 'model.layers[1].params (layer 2, Linear): unknown key "p"' in lines[1]
    assert caught.value.field == "model.layers[0].params.out_features"


def test_many_problems_are_listed_up_to_ten(tmp_path):
    data = preset_dict()
    data["model"]["layers"] = [{"type": "Linear", "params": {"out_features": -1}}] * 15
    with pytest.raises(InvalidProjectError) as caught:
        load_project(write(tmp_path, data))
    lines = str(caught.value).splitlines()
    assert len(lines) == 11 and lines[-1].endswith(": ... and 5 more problems")


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ('{"schema_version": 1, "training": {"epochs": ' + "9" * 5000 + "}}", "5,000 digits"),
        ('{"schema_version": 1, "training": {"target_loss": 1e999}}', "the number 1e999 is too large"),
        ('{"schema_version": 1, "training": {"target_loss": NaN}}', "NaN is not a number JSON allows"),
        ('{"schema_version": 1, "training": {"target_loss": -Infinity}}', "-Infinity is not a number"),
        ('{"schema_version": 1, "name": ' + "[" * 100_000 + "]" * 100_000 + "}", "nests lists or objects"),
        ('{"schema_version": 1, "name": ' + "[" * 40 + "]" * 40 + "}", "more than 32 levels deep"),
        ('{"schema_version": 1, "name": "a", "name": "b"}', 'the key "name" appears twice'),
    ],
)
def test_hostile_json_is_refused_in_one_line(tmp_path, text, words):
    with pytest.raises(ProjectFileError) as caught:
        load_project(write(tmp_path, text))
    assert words in str(caught.value) and len(str(caught.value).splitlines()) == 1


def test_a_byte_order_mark_is_accepted(tmp_path):
    path = tmp_path / "bom.json"
    path.write_bytes(b"\xef\xbb\xbf" + (PRESETS / "digits-mlp.json").read_bytes())
    assert load_project(path) == load_preset("digits-mlp")


def test_in_memory_projects_are_checked_too():
    project = Project()
    project.training.epochs = "ten"  # type: ignore[assignment]
    with pytest.raises(InvalidProjectError, match="training.epochs must be a whole number"):
        check_project(project)
    project.training.epochs = 3
    project.training.target_loss = float("inf")
    with pytest.raises(InvalidProjectError, match="training.target_loss must be a finite number or null"):
        check_project(project)


@pytest.mark.parametrize(
    ("key", "value", "words"),
    [
        ("epochs", "ten", "training.epochs must be a whole number"),
        ("batch_size", 3.5, "training.batch_size must be a whole number"),
        ("seed", "abc", "training.seed must be a whole number"),
        ("shuffle", "no", "training.shuffle must be true or false"),
    ],
)
def test_the_cli_exits_2_with_one_line(tmp_path, capsys, key, value, words):
    data = preset_dict()
    data["training"][key] = value
    assert cli_main(["train", write(tmp_path, data), "--json"]) == 2
    err = capsys.readouterr().err
    assert words in err and len(err.splitlines()) == 1 and "Traceback" not in err
