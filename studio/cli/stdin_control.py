"""``train --control-stdin``: lines on stdin steer the fit, for whoever started the run as another process.

The window's Pause, Resume and Stop reach a run it started with torchrun, or through ssh or srun,
as the lines ``pause``, ``resume`` and ``stop`` on the run's stdin (ssh and srun forward stdin to
the first process). Under torchrun only rank 0 reads them; the trainer makes every process act on
them at the same step. Stop is the clean stop: the checkpoint callback writes a resumable checkpoint;
stdin closing (the window that started the run is gone) stops the run the same way.
"""

from __future__ import annotations

import sys
import threading
from typing import TextIO

from studio.core.engine import Trainer

# Each line's word and the trainer method it calls.
COMMANDS = {"pause": Trainer.pause, "resume": Trainer.resume, "stop": Trainer.request_stop}


def listen(trainer: Trainer, stream: TextIO | None = None) -> threading.Thread:
    """Read commands from ``stream`` (stdin) in a daemon thread; unknown lines are ignored.

    When the stream closes (the window that started the run has gone), the run stops cleanly.
    """

    def read() -> None:
        for line in stream if stream is not None else sys.stdin:
            command = COMMANDS.get(line.strip().lower())
            if command is not None:
                command(trainer)
        trainer.request_stop()  # stdin closed: whoever steered the run is gone, so it stops cleanly

    thread = threading.Thread(target=read, name="stdin-control", daemon=True)
    thread.start()
    return thread
