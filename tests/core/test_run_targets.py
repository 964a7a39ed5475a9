"""The commands that run a project in another process: local torchrun, or the learner's own line."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from studio.core.errors import ConfigError
from studio.core.targets import RunTarget, TargetKind, process_command

PROJECT, RUN = Path("/data/my project.json"), Path("/runs/a b")


def test_local_processes_run_train_under_torchrun_with_the_event_stream() -> None:
    command = process_command(RunTarget(TargetKind.LOCAL, processes=4), PROJECT, RUN)
    assert command == [sys.executable, "-m", "studio", "train", str(PROJECT), "--nproc-per-node", "4",
                       "--out", str(RUN), "--json", "--control-stdin"]


def test_a_command_gets_the_paths_quoted_in_its_placeholders() -> None:
    line = "ssh gpu-box torchrun --nproc-per-node 8 -m studio train {project} --out {run} --json --control-stdin"
    command = process_command(RunTarget(TargetKind.COMMAND, command=line), PROJECT, RUN)
    assert command[:2] == ["ssh", "gpu-box"]
    assert command[command.index("train") + 1] == str(PROJECT) and command[command.index("--out") + 1] == str(RUN)


@pytest.mark.parametrize(
    ("line", "words"),
    [
        ("ssh box train project.json --json --control-stdin", "must contain {project}"),
        ("ssh box train {project}", "--json and --control-stdin"),
        ("ssh box 'train {project} --json --control-stdin", "cannot be read"),
    ],
)
def test_a_command_the_window_could_not_watch_is_refused(line: str, words: str) -> None:
    with pytest.raises(ConfigError, match=words) as info:
        process_command(RunTarget(TargetKind.COMMAND, command=line), PROJECT, RUN)
    assert info.value.field == "command"
    with pytest.raises(ConfigError, match="at least 1"):
        process_command(RunTarget(TargetKind.LOCAL, processes=0), PROJECT, RUN)
