"""The worker thread: generic jobs, training signals in order, stop, pause, failures, shutdown."""

from __future__ import annotations

import threading
from typing import Any

import numpy as np
import pytest

from studio.core.callbacks import Callback
from studio.core.engine import Trainer
from studio.core.errors import ConfigError
from studio.core.events import BatchEnd, EpochEnd, FitEnd, FitStart, LayerStats, Paused
from studio.core.project import Choice, Project
from studio.ui.workers import Job, JobState, WorkerHost
from studio.ui.workers.bridge import SignalCallback
from tests.ui.conftest import tiny_project

TRAINING_SIGNALS = ("trainingStarted", "fitStarted", "batchesEnded", "layerStats", "epochsEnded", "fitEnded",
                    "trainingFailed")  # fmt: skip


def run_project(epochs: int = 2) -> Project:
    """The default digits MLP on 16 training images per class: 10 batches of 16 per epoch."""
    return tiny_project(epochs, per_class=16, stats_every=3)


def every_batch(project: Project, data: Any, callbacks: Any) -> Trainer:
    """The real trainer, reporting every batch so that tests can count them."""
    return Trainer(project, data=data, callbacks=callbacks, log_every=1)


class StepCounter(Callback):
    """Counts finished batches in the worker thread, where the engine calls it."""

    def __init__(self) -> None:
        self.steps: list[int] = []
        self.threads: set[int] = set()

    def on_train_batch_end(self, trainer: Any, event: BatchEnd) -> None:
        self.steps.append(event.step)
        self.threads.add(threading.get_ident())


def record_signals(worker: Any) -> list[tuple[str, tuple]]:
    seen: list[tuple[str, tuple]] = []
    for name in TRAINING_SIGNALS:
        getattr(worker, name).connect(lambda *args, name=name: seen.append((name, args)))
    return seen


# --- generic jobs --------------------------------------------------------------------------------


def test_job_runs_in_the_worker_thread_and_returns_its_result(qtbot, host: WorkerHost) -> None:
    job = host.worker.submit("name of thread", lambda a, b: (threading.current_thread().name, a + b), 2, 3)
    assert isinstance(job, Job) and job.name == "name of thread" and job.state == JobState.QUEUED
    with qtbot.waitSignal(job.finished, timeout=5000) as finished:
        pass  # nothing arrives before the event loop runs: connecting after submit() misses nothing
    thread_name, total = finished.args[0]
    assert total == 5
    assert thread_name != threading.main_thread().name
    assert job.state == JobState.FINISHED and job.result == finished.args[0] and job.done()


def test_plain_callables_connected_to_a_job_run_in_the_gui_thread(qtbot, host: WorkerHost) -> None:
    threads: list[int] = []
    job = host.worker.submit("ident", threading.get_ident)
    job.started.connect(lambda: threads.append(threading.get_ident()))
    job.finished.connect(lambda result: threads.append(threading.get_ident()))
    with qtbot.waitSignal(job.finished, timeout=5000) as finished:
        pass
    assert threads == [threading.main_thread().ident] * 2
    assert finished.args[0] != threading.main_thread().ident


def test_jobs_share_one_thread_and_run_in_order(qtbot, host: WorkerHost) -> None:
    seen: list[tuple[int, Any]] = []
    jobs = [host.worker.submit("ident", threading.get_ident) for _ in range(3)]
    for job in jobs:
        job.finished.connect(lambda result, job=job: seen.append((job.id, result)))
    qtbot.waitUntil(lambda: len(seen) == 3, timeout=5000)
    assert [job_id for job_id, _ in seen] == [job.id for job in jobs]
    assert len({result for _, result in seen}) == 1


def test_each_job_reports_only_its_own_progress(qtbot, host: WorkerHost) -> None:
    def count(n: int, progress) -> int:
        for i in range(n):
            progress((i + 1) / n, f"step {i + 1}")
        return n

    first, second = host.worker.submit("count", count, 4), host.worker.submit("count", count, 2)
    progress: dict[str, list[tuple[float, str]]] = {"first": [], "second": []}
    first.progress.connect(lambda fraction, message: progress["first"].append((fraction, message)))
    second.progress.connect(lambda fraction, message: progress["second"].append((fraction, message)))
    qtbot.waitUntil(lambda: second.done(), timeout=5000)
    assert progress["first"][-1] == (1.0, "step 4")
    assert [fraction for fraction, _ in progress["first"]] == [0.25, 0.5, 0.75, 1.0]
    assert [fraction for fraction, _ in progress["second"]] == [0.5, 1.0]
    assert (first.result, second.result) == (4, 2)


def test_failed_job_reports_and_the_worker_stays_usable(qtbot, host: WorkerHost) -> None:
    def broken() -> None:
        raise ConfigError("the learning rate must be positive", field="lr")

    job = host.worker.submit("Prepare data", broken)
    finished: list[object] = []
    job.finished.connect(finished.append)
    with qtbot.waitSignal(job.failed, timeout=5000) as failed:
        pass
    assert "learning rate must be positive" in failed.args[0]
    assert job.state == JobState.FAILED and job.error == failed.args[0] and not finished
    after = host.worker.submit("after", lambda: 42)
    with qtbot.waitSignal(after.finished, timeout=5000) as done:
        pass
    assert done.args[0] == 42


def test_a_cancelled_job_is_skipped_or_silenced(qtbot, host: WorkerHost) -> None:
    gate = threading.Event()
    running = host.worker.submit("waits", gate.wait, 5.0)
    queued_ran: list[bool] = []
    queued = host.worker.submit("queued", lambda: queued_ran.append(True))
    heard: list[str] = []
    for job in (running, queued):
        for signal in (job.finished, job.failed):
            signal.connect(lambda *_args, job=job: heard.append(job.name))
    qtbot.waitUntil(lambda: running.state == JobState.RUNNING, timeout=5000)
    running.cancel()
    queued.cancel()
    gate.set()
    after = host.worker.submit("after", lambda: "alive")
    with qtbot.waitSignal(after.finished, timeout=5000):
        pass
    assert not queued_ran and not heard  # the queued job never ran; neither reported an end
    assert running.state == queued.state == JobState.CANCELLED
    assert not host.worker._jobs  # ended jobs are not kept by the worker


def test_a_dropped_handle_still_runs_its_job(qtbot, host: WorkerHost) -> None:
    ran: list[bool] = []
    host.worker.submit("fire and forget", lambda: ran.append(True))
    after = host.worker.submit("after", lambda: None)
    qtbot.waitUntil(after.done, timeout=5000)
    assert ran == [True]


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
        after = host.worker.submit("after", lambda: "alive")
        with qtbot.waitSignal(after.finished, timeout=5000) as finished:
            pass
        assert finished.args[0] == "alive"
    finally:
        host.shutdown()


# --- training with the real engine --------------------------------------------------------------


def test_training_emits_every_signal_in_order(qtbot, host: WorkerHost) -> None:
    seen = record_signals(host.worker)
    counter = StepCounter()
    with qtbot.waitSignal(host.worker.fitEnded, timeout=60_000):
        host.worker.start_training(run_project(), callbacks=[counter])
    qtbot.waitUntil(lambda: not host.worker.is_training(), timeout=5000)

    names = [name for name, _ in seen]
    assert names[:2] == ["trainingStarted", "fitStarted"]
    assert names[-1] == "fitEnded"
    assert "trainingFailed" not in names
    start: FitStart = seen[1][1][0]
    assert start.steps_per_epoch == 10 and len(start.layer_names) == 5
    batches = [event for name, args in seen if name == "batchesEnded" for event in args[0]]
    assert all(isinstance(event, BatchEnd) for event in batches)
    assert [event.step for event in batches] == sorted(event.step for event in batches)
    assert batches[-1].step == 20
    epochs = [event for name, args in seen if name == "epochsEnded" for event in args[0]]
    assert [event.epoch for event in epochs] == [1, 2] and all(isinstance(e, EpochEnd) for e in epochs)
    # Each epoch's batches arrive before its EpochEnd.
    for index, (name, args) in enumerate(seen):
        if name == "epochsEnded":
            before = [e.step for n, a in seen[:index] if n == "batchesEnded" for e in a[0]]
            assert max(before) >= 10 * args[0][-1].epoch
    stats = [event for name, args in seen if name == "layerStats" for event in args[0]]
    assert stats and all(isinstance(event, LayerStats) for event in stats)
    end: FitEnd = seen[-1][1][0]
    assert end.reason == "completed" and end.epochs_completed == 2
    assert threading.main_thread().ident not in counter.threads  # torch ran in the worker thread only


def batch_end(step: int) -> BatchEnd:
    return BatchEnd(1, step, step, 1.0, 0.5, 1e-3, 100.0)


def layer_stats(step: int) -> LayerStats:
    nan = np.full(1, np.nan)
    return LayerStats(step, 1, ("fc",), nan, nan, nan, nan, nan, nan)


EPOCH = EpochEnd(1, 1.0, 0.5, None, None, 1.0, 1e-3, 100.0)


def test_events_travel_in_parcels_by_time_and_start_pause_end_go_at_once() -> None:
    parcels: list[list[Any]] = []
    failures: list[tuple[str, str]] = []
    now = [0.0]
    bridge = SignalCallback(parcels.append, lambda *args: failures.append(args), interval=0.05,
                            clock=lambda: now[0])  # fmt: skip
    start = FitStart(2, 8, 128, 32, "cpu", ("fc",), 10, 0)
    bridge.on_fit_start(None, start)
    assert parcels == [[start]]  # the start goes out at once, and the first batch too
    bridge.on_train_batch_end(None, batch_end(1))
    assert parcels[-1] == [batch_end(1)]
    for step in range(2, 5):
        now[0] += 0.01
        bridge.on_train_batch_end(None, batch_end(step))
        bridge.on_layer_stats(None, layer_stats(step))
    bridge.on_epoch_end(None, EPOCH)
    assert len(parcels) == 2 and not failures  # 30 ms: still collecting
    now[0] += 0.03
    bridge.on_train_batch_end(None, batch_end(5))  # 60 ms after the last parcel: everything goes, in order
    assert [type(e).__name__ for e in parcels[-1]] == ["BatchEnd", "LayerStats"] * 3 + ["EpochEnd", "BatchEnd"]
    bridge.on_train_batch_end(None, batch_end(6))
    bridge.on_pause(None, Paused(1, 6, 6))
    assert parcels[-1] == [batch_end(6)]  # a pause shows the latest batches at once
    bridge.on_train_batch_end(None, batch_end(7))
    end = FitEnd("non_finite", 1, 7, None, None, "The loss became NaN.", ())
    bridge.on_fit_end(None, end)
    assert parcels[-1] == [batch_end(7), end] and len(parcels) == 5
    assert failures and failures[0][0] == "The loss became NaN."  # after its events: the plots get the end


def test_a_parcel_becomes_one_list_per_kind_between_its_start_and_end(qtbot) -> None:
    from studio.ui.workers.worker import Worker

    worker = Worker()
    seen = record_signals(worker)
    start = FitStart(2, 8, 128, 32, "cpu", ("fc",), 10, 0)
    end = FitEnd("completed", 1, 3, None, None, "Done.", ())
    b1, b2, b3, s1 = batch_end(1), batch_end(2), batch_end(3), layer_stats(1)
    s2 = layer_stats(3)
    worker._deliver([start, b1, s1, b2, EPOCH, b3, s2, end])
    assert seen == [("fitStarted", (start,)), ("batchesEnded", ([b1, b2, b3],)), ("epochsEnded", ([EPOCH],)),
                    ("layerStats", ([s1, s2],)), ("fitEnded", (end,))]  # fmt: skip
    seen.clear()
    worker._deliver([s1, EPOCH])  # a parcel in mid-run without batches: no empty list is sent
    assert [name for name, _ in seen] == ["epochsEnded", "layerStats"]


def test_stop_takes_effect_within_one_batch(qtbot) -> None:
    host = WorkerHost(trainer_factory=every_batch)
    try:
        counter = StepCounter()
        at_stop: list[int] = []

        def stop_now(_batches: list) -> None:
            if not at_stop:
                host.worker.stop()
                at_stop.append(len(counter.steps))

        host.worker.batchesEnded.connect(stop_now)
        with qtbot.waitSignal(host.worker.fitEnded, timeout=60_000) as ended:
            host.worker.start_training(run_project(epochs=500), callbacks=[counter])
        assert ended.args[0].reason == "stopped"
        assert len(counter.steps) <= at_stop[0] + 1
    finally:
        host.shutdown()


def test_pause_holds_training_and_resume_finishes_it(qtbot) -> None:
    host = WorkerHost(trainer_factory=every_batch)
    try:
        counter = StepCounter()
        at_pause: list[int] = []

        def pause_now(_batches: list) -> None:
            if not at_pause:
                host.worker.pause()
                at_pause.append(len(counter.steps))

        host.worker.batchesEnded.connect(pause_now)
        host.worker.start_training(run_project(epochs=3), callbacks=[counter])
        qtbot.waitUntil(lambda: bool(at_pause), timeout=60_000)
        qtbot.wait(300)  # let the event loop run: a paused fit must not move
        assert len(counter.steps) <= at_pause[0] + 1
        assert host.worker.is_training()
        with qtbot.waitSignal(host.worker.fitEnded, timeout=60_000) as ended:
            host.worker.resume()
        assert ended.args[0].reason == "completed"
        assert len(counter.steps) == 30
    finally:
        host.shutdown()


def test_stop_releases_a_paused_run(qtbot, host: WorkerHost) -> None:
    host.worker.batchesEnded.connect(lambda _batches: host.worker.pause())
    host.worker.start_training(run_project(epochs=200))
    qtbot.waitUntil(host.worker.is_paused, timeout=60_000)
    with qtbot.waitSignal(host.worker.fitEnded, timeout=60_000) as ended:
        host.worker.stop()
    assert ended.args[0].reason == "stopped"


def test_a_pause_after_stop_does_not_hold_the_run(qtbot) -> None:
    host = WorkerHost(trainer_factory=every_batch)
    try:
        host.worker.start_training(run_project(epochs=200))
        qtbot.waitUntil(lambda: host.worker._trainer is not None, timeout=60_000)
        with qtbot.waitSignal(host.worker.fitEnded, timeout=60_000) as ended:
            host.worker.stop()
            host.worker.pause()  # e.g. from a receiver of a parcel that was still on its way
        assert ended.args[0].reason == "stopped" and not host.worker.is_paused()
    finally:
        host.shutdown()


def test_diverging_run_ends_and_explains(qtbot, host: WorkerHost) -> None:
    project = run_project()
    project.optimizer = Choice("sgd", {"lr": 10.0})  # the largest allowed: diverges at once
    seen = record_signals(host.worker)
    with qtbot.waitSignal(host.worker.trainingFailed, timeout=60_000):
        host.worker.start_training(project)
    (fit_end, (end,)), (failed, (message, hint)) = seen[-2:]
    assert (fit_end, failed) == ("fitEnded", "trainingFailed")  # plots and history still get the end
    assert end.reason == "non_finite" and message == end.message
    assert "learning rate" in hint


def test_user_error_in_the_project_fails_cleanly_then_training_works(qtbot, host: WorkerHost) -> None:
    broken = run_project()
    broken.training.batch_size = 0
    with qtbot.waitSignal(host.worker.trainingFailed, timeout=60_000) as failed:
        host.worker.start_training(broken)
    assert "batch" in failed.args[0].lower()
    assert "bug" not in failed.args[1]
    qtbot.waitUntil(lambda: not host.worker.is_training(), timeout=5000)
    with qtbot.waitSignal(host.worker.fitEnded, timeout=60_000) as ended:
        host.worker.start_training(run_project(epochs=1))
    assert ended.args[0].reason == "completed"


def test_a_second_run_cannot_start_while_one_is_running(qtbot, host: WorkerHost) -> None:
    host.worker.start_training(run_project(epochs=200))
    with pytest.raises(RuntimeError):
        host.worker.start_training(run_project())
    with qtbot.waitSignal(host.worker.fitEnded, timeout=60_000):
        host.worker.stop()
