"""The export formats registry and :func:`export`: write a file, run it with its real consumer, compare.

Every export is staged in a temporary folder next to the destination and moved into place only
after its outputs on real inputs match the in-app model, so a failed export never leaves a
half-written or wrong file where the learner expects a good one. Warnings raised by the
exporters (e.g. torch's deprecation notices) are collected into the report, not hidden.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import torch

from studio.core.export.source import ExportSource, open_source
from studio.core.export.verify import TOLERANCE, ExportError, Runner, check, reference_outputs
from studio.core.registry import Registry

Writer = Callable[[ExportSource, Path], list[Path]]
Loader = Callable[[ExportSource, Path], Runner]


@dataclass(frozen=True)
class ExportFormat:
    """One export format. ``load`` runs the written file with its real consumer (for verification).

    ``parts`` makes a composite format (the bundle): each part is written into the folder and verified
    on its own, then ``write`` adds the rest (model card, preprocessing).
    """

    name: str
    label: str
    description: str
    default_name: str
    write: Writer
    load: Loader | None = None
    parts: tuple[str, ...] = ()


EXPORTERS: Registry[ExportFormat] = Registry("export format")


def register(fmt: ExportFormat) -> ExportFormat:
    return EXPORTERS.register(fmt.name, fmt)


@dataclass
class ExportReport:
    """What was written and how closely it reproduces the in-app model."""

    format: str
    path: Path
    files: list[Path]
    max_abs_diff: float
    n_inputs: int
    warnings: list[str] = field(default_factory=list)
    parts: list[ExportReport] = field(default_factory=list)

    def summary(self) -> str:
        """A few lines for the GUI and the command line."""
        lines = [
            f"Exported {self.format} to {self.path}: matches the in-app model on {self.n_inputs} real inputs"
            f" (max abs difference {self.max_abs_diff:.2e})."
        ]
        lines += [f"  {p.format}: {p.path.name} (max abs difference {p.max_abs_diff:.2e})" for p in self.parts]
        lines += [f"  note: {text}" for text in self.warnings]
        return "\n".join(lines)


def export(
    source: ExportSource | str | os.PathLike[str],
    fmt: str,
    out: str | os.PathLike[str],
    inputs: torch.Tensor | None = None,
    tolerance: float = TOLERANCE,
) -> ExportReport:
    """Export ``source`` (an :class:`ExportSource`, checkpoint or run folder) as ``fmt`` to ``out``, verified.

    ``inputs`` default to the real validation inputs stored with the source. Raises :class:`ExportError`
    when the exported model's outputs differ from the in-app model's by more than ``tolerance``.
    """
    src = source if isinstance(source, ExportSource) else open_source(source)
    kind = EXPORTERS.get(fmt)
    batch = _inputs(src, inputs)
    out = Path(out)
    if out.is_dir() and not kind.parts and kind.name != "python":
        out = out / kind.default_name  # a file format into an existing folder: use the usual file name
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent))
    try:
        staged = staging / out.name
        report = write_verified(kind, src, staged, batch, tolerance)
        _move_into_place(staged, out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return _relocated(report, staged, out)


def write_verified(
    kind: ExportFormat, source: ExportSource, path: Path, inputs: torch.Tensor, tolerance: float
) -> ExportReport:
    """Write ``kind`` to ``path`` and check it; parts of a composite format are checked one by one."""
    expected = reference_outputs(source.model, inputs)
    if kind.parts:
        path.mkdir(parents=True, exist_ok=True)
    parts = [write_verified(EXPORTERS.get(p), source, path / EXPORTERS.get(p).default_name, inputs, tolerance)
             for p in kind.parts]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        files = kind.write(source, path)
        if kind.load is not None:
            diff = check(kind.label, kind.load(source, path), expected, inputs, tolerance)
        else:
            diff = max((p.max_abs_diff for p in parts), default=0.0)
    notes = list(dict.fromkeys(f"{w.category.__name__}: {str(w.message).splitlines()[0]}" for w in caught))
    files = [f for p in parts for f in p.files] + files
    return ExportReport(kind.name, path, files, diff, len(inputs), notes, parts)


def _inputs(source: ExportSource, inputs: torch.Tensor | None) -> torch.Tensor:
    batch = inputs if inputs is not None else source.sample_inputs
    if batch is None or len(batch) == 0:
        raise ExportError("no real inputs to verify the export with; pass a batch of inputs")
    batch = torch.as_tensor(batch, dtype=torch.float32).cpu()
    if tuple(batch.shape[1:]) != tuple(source.info.input_shape):
        raise ExportError(
            f"the verification inputs have shape {tuple(batch.shape[1:])} per sample, but the model expects"
            f" {tuple(source.info.input_shape)}"
        )
    return batch


def _move_into_place(staged: Path, out: Path) -> None:
    """Replace ``out`` with ``staged``: atomic for files; for folders the old one is moved aside first."""
    if staged.is_dir() and out.is_file() or staged.is_file() and out.is_dir():
        raise ExportError(f"{out} already exists and is a {'file' if out.is_file() else 'folder'}; choose another name")
    if not (staged.is_dir() and out.exists()):
        os.replace(staged, out)
        return
    old = out.with_name(f".{out.name}.old.{os.getpid()}")
    os.replace(out, old)
    os.replace(staged, out)
    shutil.rmtree(old, ignore_errors=True)


def _relocated(report: ExportReport, old: Path, new: Path) -> ExportReport:
    def move(path: Path) -> Path:
        return new / path.relative_to(old) if path != old else new

    return replace(
        report,
        path=move(report.path),
        files=[move(f) for f in report.files],
        parts=[_relocated(p, old, new) for p in report.parts],
    )
