"""Where the window's Train button trains: in its own worker thread, on N local processes, or by a command.

The last two run ``train --json --control-stdin`` as another process and watch its JSON event
stream (:mod:`studio.core.eventstream`), steering it with ``pause``/``resume``/``stop`` lines
on its stdin. *N local processes* is ``studio train PROJECT --nproc-per-node N`` (torchrun). *A
command* is the user's own line with placeholders, e.g. ``ssh gpu-box torchrun
--nproc-per-node 8 -m studio train {project} --out {run} --json --control-stdin``, or a
cluster's ``srun ...``: ``{project}`` becomes the project file the window writes, ``{run}`` the
run folder. Qt-free, so the command line and the tests build the same commands.
"""

from __future__ import annotations

import shlex
import sys
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

import studio
from studio.core.errors import ConfigError


class TargetKind(str, Enum):
    """The places a run can go."""

    HERE = "here"
    LOCAL = "local"
    COMMAND = "command"


PLACEHOLDERS = ("{project}", "{run}")
DEFAULT_COMMAND = "ssh gpu-box torchrun --nproc-per-node 8 -m studio train {project} --out {run} --json --control-stdin"
# What a command must ask of ``train`` for the window to watch and steer it.
REQUIRED_FLAGS = ("--json", "--control-stdin")


@dataclass(frozen=True)
class RunTarget:
    """The Train button's target; ``processes`` counts for LOCAL, ``command`` for COMMAND."""

    kind: TargetKind = TargetKind.HERE
    processes: int = 2
    command: str = DEFAULT_COMMAND

    @property
    def in_process(self) -> bool:
        return self.kind == TargetKind.HERE

    def describe(self) -> str:
        """For the status bar: where the run goes."""
        if self.kind == TargetKind.LOCAL:
            return f"{self.processes} local processes"
        return "a command" if self.kind == TargetKind.COMMAND else "this window"


def process_command(target: RunTarget, project_file: Path, run_folder: Path) -> list[str]:
    """The program and arguments that run ``project_file`` into ``run_folder`` at ``target``.

    A command that does not name ``{project}`` or does not ask for the JSON events and stdin control is a
    :class:`ConfigError`: the window could neither give it the project nor watch it.
    """
    if target.kind == TargetKind.LOCAL:
        if target.processes < 1:
            raise ConfigError("the number of local processes must be at least 1", field="processes")
        return [sys.executable, "-m", "studio", "train", str(project_file), "--nproc-per-node", str(target.processes),
                "--out", str(run_folder), *REQUIRED_FLAGS]
    if target.kind != TargetKind.COMMAND:
        raise ValueError("a run in this window needs no command")
    text = target.command.strip()
    if "{project}" not in text:
        raise ConfigError("the command must contain {project} (the project file the window writes)", field="command")
    missing = [flag for flag in REQUIRED_FLAGS if flag not in text]
    if missing:
        raise ConfigError(f"the command must run train with {' and '.join(missing)}, so the window can watch and"
                          " stop it", field="command")
    filled = text.replace("{project}", shlex.quote(str(project_file))).replace("{run}", shlex.quote(str(run_folder)))
    try:
        words = shlex.split(filled)
    except ValueError as exc:
        raise ConfigError(f"the command cannot be read: {exc}", field="command") from None
    return words


def package_root() -> Path:
    """The folder that holds the ``studio`` package (on PYTHONPATH, the local processes find this code)."""
    return Path(studio.__file__).resolve().parents[1]
