"""A wheel carries everything the app reads: every file under ``studio/resources`` is named by the
package data in ``pyproject.toml`` (``.ci/run`` also builds and installs the wheel for real)."""

from __future__ import annotations

import fnmatch
from pathlib import Path

import pytest

tomllib = pytest.importorskip("tomllib")  # Python 3.11+

ROOT = Path(__file__).resolve().parents[1]


def test_every_resource_file_is_package_data() -> None:
    patterns = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["studio"]
    package = ROOT / "studio"
    files = [path.relative_to(package).as_posix() for path in (package / "resources").rglob("*") if path.is_file()]
    assert files
    missing = [name for name in files if not any(fnmatch.fnmatchcase(name, pattern) for pattern in patterns)]
    assert not missing, f"add these to [tool.setuptools.package-data] in pyproject.toml: {missing}"


def test_the_package_ships_its_type_hints() -> None:
    patterns = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["studio"]
    assert (ROOT / "studio" / "py.typed").is_file() and "py.typed" in patterns
