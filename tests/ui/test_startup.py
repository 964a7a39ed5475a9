"""The window starts as a user starts it (``python -m studio PROJECT.json`` in a fresh interpreter),
paints, answers events, and closes through the hidden start-up hook that CI and
``benchmarks/startup.py`` use."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from studio.core.presets import default_project
from studio.core.project import save_project
from studio.ui.startup import ENV

ROOT = Path(__file__).resolve().parents[2]


def test_the_window_opens_on_a_project_file_and_reports_its_start(tmp_path: Path) -> None:
    path = tmp_path / "start-check.json"
    save_project(path, default_project())
    # Settings (recent files, geometry) go to the temporary folder, not the user's.
    env = {**os.environ, ENV: "1", "QT_QPA_PLATFORM": "offscreen", "XDG_CONFIG_HOME": str(tmp_path)}
    proc = subprocess.run([sys.executable, "-m", "studio", str(path)], capture_output=True, text=True, timeout=300,
                          cwd=ROOT, env=env)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(next(line for line in proc.stderr.splitlines() if line.startswith("{")))
    assert report["shown"] <= report["painted"] <= report["interactive"]
    assert report["title"].startswith("start-check.json")  # the window is on that file
