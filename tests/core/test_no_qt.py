"""Qt stays out of the core: importing every studio.core module and running a whole fit loads no Qt."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = textwrap.dedent(
    """
    import importlib, pkgutil, sys
    import torch
    import studio.core
    for info in pkgutil.walk_packages(studio.core.__path__, "studio.core."):
        importlib.import_module(info.name)
    from studio.core.engine import Trainer
    from studio.core.presets import default_project
    project = default_project()
    project.training.epochs = 1
    project.training.device = "cpu"
    result = Trainer(project).fit()
    assert result.reason == "completed", result.message
    qt = sorted(name for name in sys.modules if name.split(".")[0] in ("PySide6", "pyqtgraph", "shiboken6"))
    print("QT:", qt)
    """
)


def test_core_and_a_whole_fit_never_import_qt() -> None:
    done = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "QT: []" in done.stdout, done.stdout
