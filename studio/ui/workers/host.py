"""Owns the worker thread for the application's lifetime: started once, joined on shutdown."""

from __future__ import annotations

from PySide6.QtCore import QObject, QThread

from studio.ui.workers.worker import TrainerFactory, Worker, engine_trainer


class WorkerHost(QObject):
    """Creates the :class:`Worker`, gives its job runner one ``QThread`` and starts that thread once.

    The thread is never restarted or replaced (a second thread that runs torch ops would
    trigger the OpenMP slowdown); :meth:`shutdown` stops any run and joins it.
    """

    def __init__(
        self, trainer_factory: TrainerFactory = engine_trainer, parent: QObject | None = None,
        thread: QThread | None = None,
    ) -> None:
        """``thread``: the worker thread when the app has started it already (it imported torch there)."""
        super().__init__(parent)
        self.worker = Worker(trainer_factory, self)
        self.worker_thread = thread or QThread()
        self.worker_thread.setObjectName("studio-worker")
        self.worker.move_runner_to(self.worker_thread)
        if not self.worker_thread.isRunning():
            self.worker_thread.start()

    def is_running(self) -> bool:
        return self.worker_thread.isRunning()

    def shutdown(self) -> None:
        """Stop training, skip queued jobs, finish the current job and join the thread (idempotent)."""
        if not self.worker_thread.isRunning():
            return
        self.worker.close()
        self.worker_thread.quit()
        self.worker_thread.wait()
