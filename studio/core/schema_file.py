"""The project file's JSON Schema as shipped in the package (``studio/resources/project.schema.json``).

:func:`studio.core.schema.project_schema` derives the schema from the registries, and they import
torch (seconds). ``studio schema`` and anything else that only reads the schema use this copy,
which loads in milliseconds; a test keeps it equal to the derived one. After changing a project
field or a registry, regenerate it: ``python -m studio.core.schema_file``.
"""

from __future__ import annotations

import json
from importlib.resources import files
from pathlib import Path
from typing import Any

FILE_NAME = "project.schema.json"


def shipped_schema() -> dict[str, Any]:
    """The schema shipped with this version, without importing torch."""
    schema: dict[str, Any] = json.loads((files("studio") / "resources" / FILE_NAME).read_text(encoding="utf-8"))
    return schema


def schema_text(schema: dict[str, Any]) -> str:
    """The schema as the file holds it (and ``studio schema`` prints it)."""
    return json.dumps(schema, indent=2) + "\n"


def write_shipped_schema() -> Path:
    """Derive the schema and write it into the checkout's package folder; return its path."""
    from studio.core.io import atomic_write_text
    from studio.core.schema import project_schema

    path = Path(__file__).resolve().parents[1] / "resources" / FILE_NAME
    atomic_write_text(path, schema_text(project_schema()))
    return path


if __name__ == "__main__":
    print(f"wrote {write_shipped_schema()}")
