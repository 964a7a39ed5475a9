"""The schema shipped in the package (what ``studio schema`` prints without torch) is the one
derived from the project classes and the registries."""

from __future__ import annotations

from studio.core.schema import project_schema
from studio.core.schema_file import shipped_schema


def test_the_shipped_schema_is_the_derived_one() -> None:
    assert shipped_schema() == project_schema(), (
        "the shipped schema is out of date: run `python -m studio.core.schema_file` and commit the file"
    )
