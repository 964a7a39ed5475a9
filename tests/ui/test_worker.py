"""The worker thread: generic jobs, training signals in order, stop, pause, failures, shutdown."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from studio.core.errors import ConfigError
from studio.core.project import Project
from studio.ui.workers import WorkerHost


@pytest.fixture
def host():
    host = WorkerHost()
    yield host
    host.shutdown()
    assert not host.is_running()


# --- generic jobs --------------------------------------------------------------------------------


def test_job_runs_in_the_worker_thread_and_returns_its_result(qtbot, host: WorkerHost) -> None:
    with qtbot.waitSignal(host.worker.jobFinished, timeout=5000) as finished:
        job = host.worker.submit("name of thread", lambda a, b: (threading.current_thread().name, a + b), 2, 3)
    assert finished.args[0] == job
    thread_name, total = finished.args[1]
    assert total == 5
    assert thread_name != threading.main_thread().name


def test_jobs_share_one_thread_and_run_in_order(qtbot, host: WorkerHost) -> None:
    seen: list[tuple[int, Any]] = []
    host.worker.jobFinished.connect(lambda job, result: seen.append((job, result)))
    ids = [host.worker.submit("ident", threading.get_ident) for _ in range(3)]
    qtbot.waitUntil(lambda: len(seen) == 3, timeout=5000)
    assert [job for job, _ in seen] == ids
    assert len({result for _, result in seen}) == 1


def test_job_progress_is_reported(qtbot, host: WorkerHost) -> None:
    progress: list[tuple[int, float, str]] = []
    host.worker.jobProgress.connect(lambda job, fraction, message: progress.append((job, fraction, message)))

    def count(n: int, progress) -> int:
        for i in range(n):
            progress((i + 1) / n, f"step {i + 1}")
        return n

    with qtbot.waitSignal(host.worker.jobFinished, timeout=5000):
        job = host.worker.submit("count", count, 4)
    qtbot.waitUntil(lambda: len(progress) == 4, timeout=5000)
    assert progress[-1] == (job, 1.0, "step 4")
    assert [fraction for _, fraction, _ in progress] == [0.25, 0.5, 0.75, 1.0]


def test_failed_job_reports_and_the_worker_stays_usable(qtbot, host: WorkerHost) -> None:
    def broken() -> None:
        raise ConfigError("the learning rate must be positive", field="lr")

    with qtbot.waitSignal(host.worker.jobFailed, timeout=5000) as failed:
        job = host.worker.submit("Prepare data", broken)
    assert failed.args[0] == job
    assert "learning rate must be positive" in failed.args[1]
    with qtbot.waitSignal(host.worker.jobFinished, timeout=5000) as finished:
        host.worker.submit("after", lambda: 42)
    assert finished.args[1] == 42


def test_shutdown_joins_the_thread_and_is_idempotent(qtbot) -> None:
    host = WorkerHost()
    assert host.is_running()
    host.shutdown()
    host.shutdown()
    assert not host.is_running()


# --- training failures (a trainer factory that fails, so no engine is needed) --------------------


def _failing_factory(exc: Exception):
    def factory(project: Project, data: Any, callbacks: Any):
        raise exc

    return factory


@pytest.mark.parametrize(
    ("exc", "message", "hint"),
    [
        (ConfigError("batch size must be at least 1", field="batch_size"), "batch size must be at least 1", ""),
        (RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB"), "out of memory", "smaller batch size"),
        (FloatingPointError("loss is non-finite (nan) at step 12"), "non-finite", "lower learning rate"),
        (ZeroDivisionError("division by zero"), "internal error", "bug"),
    ],
)
def test_training_failure_explains_and_the_worker_stays_usable(qtbot, exc, message, hint) -> None:
    host = WorkerHost(trainer_factory=_failing_factory(exc))
    try:
        with qtbot.waitSignal(host.worker.trainingFailed, timeout=5000) as failed:
            host.worker.start_training(Project())
        assert message in failed.args[0]
        assert hint in failed.args[1]
        qtbot.waitUntil(lambda: not host.worker.is_training(), timeout=5000)
        with qtbot.waitSignal(host.worker.jobFinished, timeout=5000) as finished:
            host.worker.submit("after", lambda: "alive")
        assert finished.args[1] == "alive"
    finally:
        host.shutdown()
