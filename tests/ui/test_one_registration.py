"""Adding an optimizer or a layer type is one registration: the GUI forms, the command line, the schema and
the code export all follow from the entry. A throwaway ASGD and Hardtanh are registered here and removed after.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch
from torch import nn

from studio.cli import main as cli
from studio.core.export import export
from studio.core.layers import LAYERS, LayerType
from studio.core.layers import register as register_layer
from studio.core.optim import OPTIMIZERS, OptimizerType
from studio.core.optim.optimizers import register as register_optimizer
from studio.core.params import Param
from studio.core.project import Choice, DataSpec, LayerSpec, ModelSpec, Project, TrainingSpec, save_project
from studio.core.schema import project_schema
from studio.ui.widgets.layer_editor.palette import LayerPalette
from studio.ui.widgets.layer_editor.properties import LayerProperties
from studio.ui.widgets.optimizer_panel import OptimizerPanel

ASGD = OptimizerType(
    "asgd", "ASGD", "Averaged SGD: plain SGD steps, reporting the running average of the weights.",
    (
        Param("lr", "float", 0.01, "Step size.", min=1e-6, max=10.0, log=True, label="learning rate"),
        Param("lambd", "float", 1e-4, "Decay term.", min=0.0, max=1.0),
        Param("alpha", "float", 0.75, "Power of the step-size decay.", min=0.0, max=1.0),
        Param("t0", "float", 1e6, "Step at which averaging starts.", min=0.0, max=1e9),
        Param("weight_decay", "float", 0.0, "L2 penalty.", min=0.0, max=1.0),
    ),
    torch.optim.ASGD,
)
HARDTANH = LayerType(
    "Hardtanh", "activation", "Clips values into [min_val, max_val].",
    (Param("min_val", "float", -1.0, "Lower bound.", min=-10.0, max=0.0),
     Param("max_val", "float", 1.0, "Upper bound.", min=0.0, max=10.0)),
    lambda p, s: nn.Hardtanh(p["min_val"], p["max_val"]), key_params=("max_val",),
)


@pytest.fixture
def throwaway():
    register_optimizer(ASGD)
    register_layer(HARDTANH)
    yield
    OPTIMIZERS.unregister(ASGD.name)
    LAYERS.unregister(HARDTANH.name)


def _project() -> Project:
    layers = [LayerSpec("Linear", {"out_features": 16}), LayerSpec("Hardtanh", {"min_val": -0.5, "max_val": 0.5}),
              LayerSpec("Linear", {"out_features": 10})]
    return Project(model=ModelSpec(layers), data=DataSpec(subset_per_class=8), optimizer=Choice("asgd", {"lr": 0.05}),
                   training=TrainingSpec(epochs=2, batch_size=16, device="cpu", stats_every=0))


def test_the_gui_forms_come_from_the_entries(qtbot, throwaway):
    panel = OptimizerPanel(devices=[])
    qtbot.addWidget(panel)
    assert panel.optimizer.combo.findData("asgd") >= 0
    panel.optimizer.set_choice("asgd", {"lr": 0.05})
    form = panel.optimizer.form
    assert [p.name for p in form.params()] == ["lr", "lambd", "alpha", "t0", "weight_decay"]
    assert form.values()["lr"] == pytest.approx(0.05) and form.values()["t0"] == 1e6
    palette = LayerPalette()
    qtbot.addWidget(palette)
    assert palette.item_for("Hardtanh") is not None
    properties = LayerProperties()
    qtbot.addWidget(properties)
    network = _project().model
    properties.show_layer(1, network.layers[1], network)
    assert properties.form is not None and properties.form.values() == {"min_val": -0.5, "max_val": 0.5}


def test_the_command_line_schema_and_code_export_follow(throwaway, tmp_path: Path, capsys):
    project_file, run = tmp_path / "p.json", tmp_path / "run"
    save_project(project_file, _project())
    assert cli(["train", str(project_file), "--out", str(run), "--json"]) == 0
    events = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    assert events[-1]["event"] == "fit_end" and events[-1]["reason"] == "completed"

    schema = project_schema()
    optimizer, layer = schema["properties"]["optimizer"], schema["$defs"]["LayerSpec"]
    assert "asgd" in optimizer["properties"]["name"]["enum"] and "lambd" in json.dumps(optimizer["allOf"])
    assert "Hardtanh" in layer["properties"]["type"]["enum"] and "max_val" in json.dumps(layer["allOf"])

    folder = tmp_path / "python"
    export(run, "python", folder)
    assert "nn.Hardtanh(min_val=-0.5, max_val=0.5)" in (folder / "model.py").read_text()
    assert "torch.optim.ASGD(groups, lr=0.05, lambd=0.0001" in (folder / "train.py").read_text()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}  # plain PyTorch, no studio
    code = "import train\ntrain.main()\nimport sys\nassert not any(m.startswith('studio') for m in sys.modules)\n"
    result = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=folder, env=env, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert (folder / "retrained-weights.pt").is_file()
