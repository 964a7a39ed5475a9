"""One entry point: ``studio``, ``python -m studio`` and ``python main.py`` behave the same; ``--help``,
``--version``, ``presets`` and ``schema`` answer without importing torch or Qt."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from studio import __version__

ROOT = Path(__file__).resolve().parents[1]

# Runs the entry point in a fresh interpreter, then reports which heavy libraries it imported.
PROBE = textwrap.dedent(
    """
    import sys
    from studio.__main__ import main
    try:
        code = main(sys.argv[1:])
    except SystemExit as exc:
        code = exc.code
    heavy = sorted(name for name in ("torch", "PySide6", "numpy", "pyqtgraph") if name in sys.modules)
    print("HEAVY:", ",".join(heavy), file=sys.stderr)
    sys.exit(code)
    """
)


def _run(*command: str) -> subprocess.CompletedProcess:
    return subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=ROOT)


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--help"], "studio PROJECT.json"),
        (["--version"], f"Training Studio {__version__}"),
        (["presets"], "digits-mlp"),
        (["schema"], '"title": "Training Studio project"'),
    ],
)
def test_light_commands_import_neither_torch_nor_qt(args: list[str], words: str) -> None:
    proc = _run(sys.executable, "-c", PROBE, *args)
    assert proc.returncode == 0, proc.stderr
    assert words in proc.stdout
    assert proc.stderr.strip().splitlines()[-1] == "HEAVY:"


@pytest.mark.parametrize("start", [["-m", "studio"], [str(ROOT / "main.py")]])
def test_python_m_studio_and_main_py_are_the_same_program(start: list[str]) -> None:
    assert _run(sys.executable, *start, "--version").stdout.strip() == f"Training Studio {__version__}"
    helped = _run(sys.executable, *start, "train", "--help")
    assert helped.returncode == 0 and "usage: studio train" in helped.stdout and "--preset" in helped.stdout


def test_an_unknown_command_is_a_usage_error() -> None:
    proc = _run(sys.executable, "-m", "studio", "trian")
    assert proc.returncode == 2
    assert "invalid choice: 'trian'" in proc.stderr and "Traceback" not in proc.stderr
