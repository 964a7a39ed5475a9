"""``train`` with several processes: ``--nproc-per-node N`` starts torchrun, and each process joins its job.

``python main.py train PROJECT --nproc-per-node N`` first checks what it can before any process
starts (a device this computer lacks, fp16 on the CPU, a batch smaller than N: one line, exit 2),
then runs torchrun's own launcher (``torch.distributed.run``) in this process with the same
arguments. The launcher prints only what the processes print: its own logging is silenced, and
a process that died without a word (killed, out of memory) is named in one line.

Under torchrun, started either way, :func:`join` makes this process one rank of the job
(:class:`~studio.core.engine.distributed.Group`); rank 0 alone reports and writes.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
from collections.abc import Callable, Sequence
from typing import TypeVar

import torch

from studio.core.engine.distributed import Group, Launch, check_launch, rank_device
from studio.core.engine.precision import check_precision
from studio.core.project import Project

T = TypeVar("T")
# Exit statuses of processes that said why they ended (user error, a lost peer, Ctrl+C or SIGTERM).
_EXPLAINED = {1, 2, 130, 143}


def check(project: Project, processes: int, local_processes: int) -> torch.device:
    """The device kind N processes train ``project`` on; a ConfigError for what cannot work."""
    t = project.training
    kind = check_launch(t.device, t.batch_size, processes, local_processes)
    check_precision(t.precision, torch.device(kind))
    return torch.device(kind)


def launch(project: Project, processes: int, argv: Sequence[str]) -> int:
    """Run ``train`` with ``argv`` (its own arguments, without ``--nproc-per-node``) on ``processes`` processes."""
    check(project, processes, processes)
    from torch.distributed.elastic.multiprocessing.api import SignalException
    from torch.distributed.elastic.multiprocessing.errors import ChildFailedError
    from torch.distributed.run import get_args_parser, run

    for name in [*logging.root.manager.loggerDict, "torch.distributed"]:  # elastic's loggers set their own levels
        if name.startswith("torch.distributed"):
            logging.getLogger(name).setLevel(logging.CRITICAL)
    # The cores shared out (torchrun would set 1 and warn about it on every start).
    os.environ.setdefault("OMP_NUM_THREADS", str(max(1, (os.cpu_count() or 1) // processes)))
    torchrun = get_args_parser().parse_args(
        ["--standalone", f"--nproc-per-node={processes}", "--module", "studio", "train", *argv]
    )
    try:
        run(torchrun)
    except ChildFailedError as exc:
        return _report(exc.failures)
    except SignalException as exc:
        # Ctrl+C or SIGTERM: torchrun passed it on once to its processes (in sessions of their own), which
        # stopped cleanly with a checkpoint and said so.
        return 128 + int(exc.sigval)
    return 0


def _report(failures: dict) -> int:
    """One line per process that died without saying why; the exit status of the whole run.

    torchrun ends the survivors of a failure with SIGTERM: those are not news when another process failed.
    """
    unexplained = {rank: f for rank, f in failures.items() if f.exitcode not in _EXPLAINED}
    causes = {rank: f for rank, f in unexplained.items() if f.exitcode != -signal.SIGTERM} or unexplained
    for rank, failure in sorted(causes.items()):
        how = (f"was killed by {signal.Signals(-failure.exitcode).name}" if failure.exitcode < 0
               else f"ended with exit status {failure.exitcode}")
        print(f"error: training process {rank} {how}; the run stopped", file=sys.stderr)
    codes = {failure.exitcode for failure in failures.values()}
    return 2 if 2 in codes else next(iter(sorted(codes & {130, 143})), 1)


def speaks() -> bool:
    """Whether this process reports to the user: always, but for ranks above 0 under torchrun."""
    return os.environ.get("RANK", "0") == "0"


def join(project: Project) -> Group | None:
    """This process's rank in a torchrun job (None outside torchrun), after checking the launch."""
    launch_info = Launch.from_env()
    if launch_info is None:
        return None
    kind = check(project, launch_info.world_size, launch_info.local_world_size)
    return Group(launch_info, rank_device(kind.type, launch_info))


def in_turn(group: Group | None, work: Callable[[], T]) -> T:
    """Run ``work`` on rank 0 first, then on the others (data downloads and caches are written once)."""
    if group is None:
        return work()
    if not group.writer:
        group.barrier()
    result = work()
    if group.writer:
        group.barrier()
    return result
