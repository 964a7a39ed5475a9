"""Stop and pause requests from other threads (the GUI, a signal handler, a control line on stdin).

The fit loop asks :meth:`Control.held` between batches. In one process a request counts at the
next batch. Under torchrun a request reaches one process (rank 0 reads the control line; a
signal may reach any), but all processes must stop or hold at the same step, or the others
would wait for it in the next gradient exchange forever: :class:`AgreedControl` pools the
requests of all processes every ``every`` steps (one tiny all-reduce) and every process acts
on the pooled answer. While held, the processes meet a few times a second until the pause ends.
"""

from __future__ import annotations

import threading

from studio.core.engine.distributed import Group

# While paused under torchrun, the processes compare requests this often (seconds).
POLL_S = 0.2


class Control:
    """Thread-safe stop and pause requests, honoured at batch boundaries."""

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._running = threading.Event()
        self._running.set()

    def request_stop(self) -> None:
        """Stop at the next batch boundary (also wakes a paused fit)."""
        self._stop.set()
        self._running.set()

    def pause(self) -> None:
        self._running.clear()

    def resume(self) -> None:
        self._running.set()

    @property
    def paused(self) -> bool:
        """A pause was asked of this process and not yet lifted."""
        return not self._running.is_set()

    def held(self, step: int) -> bool:
        """Before training step ``step + 1``: must the loop stop or hold here?"""
        return self.stopping or self.pausing

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    @property
    def pausing(self) -> bool:
        return not self._running.is_set()

    def hold(self) -> None:
        """Wait until the pause is lifted or a stop is asked."""
        self._running.wait()

    def reset(self) -> None:
        """The fit is over: no request carries over to the next one."""
        self._stop.clear()
        self._running.set()


class AgreedControl(Control):
    """Requests pooled over all processes of a torchrun job, so that all act at the same step."""

    def __init__(self, group: Group, every: int) -> None:
        super().__init__()
        self.group = group
        self.every = every
        self._agreed = (False, False)  # (stop, pause), the same in every process

    def held(self, step: int) -> bool:
        if step % self.every == 0:
            self._agree()
        return any(self._agreed)

    @property
    def stopping(self) -> bool:
        return self._agreed[0]

    @property
    def pausing(self) -> bool:
        return self._agreed[1] and not self._agreed[0]

    def hold(self) -> None:
        while self.pausing:
            self._running.wait(POLL_S)
            self._agree()

    def _agree(self) -> None:
        stop, pause = self.group.agree(self._stop.is_set(), not self._running.is_set())
        self._agreed = (stop, pause)

    def reset(self) -> None:
        super().reset()
        self._agreed = (False, False)
