"""The export formats registry and :func:`export`: write a file, run it with its real consumer, compare.

Every export is staged in a temporary folder next to the destination and moved into place only
after its outputs on real inputs match the in-app model, so a failed export never leaves a
half-written or wrong file where the learner expects a good one. Warnings that Training Studio itself raises
while exporting (train.py will need your data...) are notes in the report for the learner; warnings from the
libraries (torch's deprecation notices for TorchScript and the legacy ONNX exporter) say nothing a learner can
act on, so they are logged (logger ``studio.core.export.formats``) and kept in ``ExportReport.library_warnings``.

An export never deletes what it did not write: an existing file, or a folder that already holds
files, is refused (:class:`DestinationTaken`) unless ``force`` is given, and even then only the
files the export writes are replaced, one by one; everything else in the folder stays.
"""

from __future__ import annotations

import logging
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
from studio.core.io import default_mode
from studio.core.registry import Registry

log = logging.getLogger(__name__)
STUDIO = str(Path(__file__).resolve().parents[2])  # the studio package: warnings from there are the learner's
DEPRECATIONS = (DeprecationWarning, PendingDeprecationWarning, FutureWarning)

Writer = Callable[[ExportSource, Path], list[Path]]
Loader = Callable[[ExportSource, Path], Runner]


@dataclass(frozen=True)
class ExportFormat:
    """One export format. ``load`` runs the written file with its real consumer (for verification).

    ``parts`` makes a composite format (the bundle): each part is written into the folder and verified
    on its own, then ``write`` adds the rest (model card, preprocessing). ``folder`` formats write a
    folder of files (python, bundle) instead of one file.
    """

    name: str
    label: str
    description: str
    default_name: str
    write: Writer
    load: Loader | None = None
    parts: tuple[str, ...] = ()
    folder: bool = False


class DestinationTaken(ExportError):
    """The destination already exists (a file, or a folder with files in it); ``force`` writes anyway."""

    def __init__(self, path: Path, folder: bool) -> None:
        what = ("already holds files" if folder else "already exists")
        super().__init__(
            f"{path} {what}; choose a new name (or an empty folder), or allow the export to replace its own files"
            " there (--force on the command line); nothing else is ever deleted"
        )
        self.path, self.folder = path, folder


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
    library_warnings: list[str] = field(default_factory=list)  # logged, not in the summary

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
    force: bool = False,
) -> ExportReport:
    """Export ``source`` (an :class:`ExportSource`, checkpoint or run folder) as ``fmt`` to ``out``, verified.

    ``inputs`` default to the real validation inputs stored with the source. Raises :class:`ExportError`
    when the exported model's outputs differ from the in-app model's by more than ``tolerance``, and
    :class:`DestinationTaken` when ``out`` is taken and ``force`` is False (checked before any work).
    """
    out = check_destination(fmt, out, force)
    src = source if isinstance(source, ExportSource) else open_source(source)
    kind = EXPORTERS.get(fmt)
    batch = _inputs(src, inputs)
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent))
    try:
        staged = staging / out.name
        report = write_verified(kind, src, staged, batch, tolerance)
        if staged.is_dir():
            os.chmod(staged, default_mode(directory=True))  # mkdtemp's 0700 must not reach the user's folder
        _move_into_place(staged, out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return _relocated(report, staged, out)


def destination(fmt: str, out: str | os.PathLike[str]) -> Path:
    """Where ``export(..., fmt, out)`` writes: a file format into an existing folder gets its usual file name."""
    out = Path(out)
    if out.is_dir() and not EXPORTERS.get(fmt).folder:
        return out / EXPORTERS.get(fmt).default_name
    return out


def check_destination(fmt: str, out: str | os.PathLike[str], force: bool = False) -> Path:
    """The destination of an export of ``fmt`` to ``out``, refused when it would replace what is there.

    A folder format may go into a new or empty folder; a file format to a new name. With ``force``,
    a taken destination is allowed: the export then replaces only the files it writes.
    """
    path, folder = destination(fmt, out), EXPORTERS.get(fmt).folder
    if path.exists() and folder != path.is_dir():
        kind = "file" if path.is_file() else "folder"
        raise ExportError(f"{path} already exists and is a {kind}; choose another name")
    taken = any(path.iterdir()) if folder and path.is_dir() else path.exists()
    if taken and not force:
        raise DestinationTaken(path, folder)
    return path


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
    notes, library = _sort_warnings(caught)
    for text in library:
        log.info("export %s: %s", kind.name, text)
    files = [f for p in parts for f in p.files] + files
    return ExportReport(kind.name, path, files, diff, len(inputs), notes, parts, library)


def _sort_warnings(caught: list[warnings.WarningMessage]) -> tuple[list[str], list[str]]:
    """(Training Studio's own warnings, the libraries'), each as unique first lines.

    A deprecation is always the library's: torch attributes its notices to the caller (``stacklevel``), which
    is our exporter's line, and the studio deprecates nothing to its learners.
    """
    ours: list[str] = []
    library: list[str] = []
    for w in caught:
        text = f"{w.category.__name__}: {str(w.message).splitlines()[0]}"
        own = str(Path(w.filename).resolve()).startswith(STUDIO + os.sep) and not issubclass(w.category, DEPRECATIONS)
        (ours if own else library).append(text)
    return list(dict.fromkeys(ours)), list(dict.fromkeys(library))


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
    """Put ``staged`` at ``out``: one atomic rename when ``out`` is new (or a file), else file by file.

    Into an existing folder each written file replaces its namesake atomically and every other file
    of the folder is left alone: nothing the export did not write is deleted.
    """
    if not (staged.is_dir() and out.is_dir()):
        os.replace(staged, out)
        return
    files = sorted(p for p in staged.rglob("*") if not p.is_dir())
    for name in (p.relative_to(staged) for p in files):
        if (out / name).is_dir() or any((out / parent).is_file() for parent in name.parents):
            raise ExportError(f"{out / name} cannot be written: a file and a folder of that name are in the way")
    for file in files:
        target = out / file.relative_to(staged)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(file, target)


def _relocated(report: ExportReport, old: Path, new: Path) -> ExportReport:
    def move(path: Path) -> Path:
        return new / path.relative_to(old) if path != old else new

    return replace(
        report,
        path=move(report.path),
        files=[move(f) for f in report.files],
        parts=[_relocated(p, old, new) for p in report.parts],
    )
