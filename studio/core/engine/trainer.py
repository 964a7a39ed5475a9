"""The fit loop: batches, optimizer steps, validation, statistics, stop conditions and events.

Speed matters because learners watch it: in-memory data is batched on the device by slicing a
seeded permutation, and a step never waits for the device. Losses and outputs pile up on the
device and are fetched once every ``log_every`` steps (which is also when non-finite losses are
caught); layer statistics are fetched once every ``stats_every`` steps. Stop, pause and resume
are thread-safe flags honoured between batches (``control.py``). How a step computes (device,
precision, channels_last, compile, the processes of a torchrun job) is the :class:`Runtime`'s.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from typing import Any

import torch
from torch import nn

from studio.core.build import build_model
from studio.core.callbacks import Callback, CallbackList
from studio.core.data import PreparedData, prepare_data
from studio.core.engine import stopping
from studio.core.engine.batching import Batch, StreamBatches, TensorBatches, batch_length, stream_batches
from studio.core.engine.control import AgreedControl, Control
from studio.core.engine.distributed import Group, guarded
from studio.core.engine.evaluate import EVAL_BATCH, evaluate_batches
from studio.core.engine.last_good import LastGood
from studio.core.engine.metrics import BatchWindow, EpochTotals
from studio.core.engine.runtime import Runtime
from studio.core.engine.state import FitPosition, FitState, capture, restore
from studio.core.engine.threads import forward_flops, intra_op_threads, step_threads
from studio.core.errors import ConfigError
from studio.core.events import BatchEnd, EpochEnd, FitEnd, FitResult, FitStart, Paused
from studio.core.memory import check_memory
from studio.core.optim import (
    build_loss,
    build_optimizer,
    build_schedule,
    current_lr,
    optimizer_lr,
    param_groups,
)
from studio.core.project import Project
from studio.core.shapes import check_batch_statistics
from studio.core.stats import LayerStatsCollector
from studio.core.units import model_units
from studio.core.validate import check_project
from studio.core.vocab import EndReason, Interval, Task

Batches = TensorBatches | StreamBatches
Verdict = tuple[EndReason, str]  # (FitEnd reason, message for the learner)

# How often (in steps) batch losses are fetched from the device and a BatchEnd is sent.
DEFAULT_LOG_EVERY = 10


class Trainer:
    """Trains ``project``'s network on ``data`` (prepared from the project when None).

    Everything is built here, so ``trainer.model``, ``trainer.optimizer``, ``trainer.data`` and
    ``trainer.device`` exist before :meth:`fit`. ``model`` replaces the network built from the
    project (fine-tuning, tests); it trains as one parameter group unless it has one module per
    project layer. ``log_every`` sets how many steps one ``BatchEnd`` covers. ``group`` makes this
    trainer one process of a torchrun job (``distributed.py``): it trains on its share of each batch.
    """

    def __init__(
        self,
        project: Project,
        data: PreparedData | None = None,
        callbacks: Iterable[Callback] = (),
        model: nn.Module | None = None,
        log_every: int = DEFAULT_LOG_EVERY,
        group: Group | None = None,
    ) -> None:
        check_project(project)  # the schema, before anything is built: a wrong type names its field
        if log_every < 1:
            raise ValueError("log_every must be at least 1")
        self.project = project.copy()
        self.training = self.project.training
        # With the target checked per batch, each batch's loss is fetched and checked.
        self.log_every = 1 if self.training.target_check == Interval.BATCH else log_every
        self.data = data if data is not None else prepare_data(self.project.data)
        if not self.data.n_train:
            raise ConfigError("the training split is empty: lower the validation fraction or add data", field="data")
        self.runtime = Runtime(self.training, group)
        self.device = self.runtime.device
        torch.manual_seed(self.training.seed)
        if model is None:
            batch = min(self.training.batch_size, self.data.n_train)
            check_memory(self.project.model, self.data.input_shape, batch, self.project.optimizer, self.device)
            check_batch_statistics(self.project.model.layers, self.data.input_shape, self.training.batch_size,
                                   self.data.n_train)
            model = build_model(self.project.model, self.data.input_shape, self.training.seed)
        self.model = self.runtime.place(model)
        self.threads = self._step_threads()
        # The forwards a step runs through (DDP, compiled); batch norm layers are synchronised in place, so the
        # rows below are the modules that train.
        self._forward, self._eager = self.runtime.forwards(self.model)
        # One label per row, rows inside blocks too ("3.2 Linear 64"); foreign models: one per child.
        self.units = model_units(self.model, self.project.model.layers)
        self.layer_names = tuple(unit.label for unit in self.units)
        self.loss_fn = build_loss(self.project.loss, self.data.task, self.data.num_classes or None)
        self.optimizer = build_optimizer(self.project.optimizer, self._param_groups())
        self._batches, self._val_batches = self._make_batches()
        self.steps_per_epoch = len(self._batches)
        self.schedule = build_schedule(self.project.schedule, self.optimizer, self.training.epochs, len(self._batches))
        self.callbacks = CallbackList(callbacks)
        self.position = FitPosition()
        self.control = AgreedControl(group, self.log_every) if group is not None else Control()
        self._stats: LayerStatsCollector | None = None
        self._source: Iterator[Batch] | None = None  # the current epoch's batches, from its first step

    # --- building -------------------------------------------------------------------------------

    def _step_threads(self) -> int:
        """Torch threads for the fit: one for a model too small to split (see ``engine/threads.py``)."""
        available = torch.get_num_threads()
        if self.device.type != "cpu" or available == 1:
            return available
        try:
            flops = forward_flops(self.model, self.data.input_shape, self.training.batch_size, self.device)
        except (RuntimeError, ValueError):  # not countable: the fit itself will explain the problem
            return available
        return step_threads(flops, available)

    def _param_groups(self) -> list[dict[str, Any]]:
        specs = self.project.model.layers
        if isinstance(self.model, nn.Sequential) and len(specs) == len(self.model):
            return merge_groups(param_groups(self.model, specs, optimizer_lr(self.project.optimizer)))
        params = [p for p in self.model.parameters() if p.requires_grad]
        if not params:
            raise ConfigError("nothing to train: the network has no trainable weights", field="layers")
        return [{"params": params}]

    def _make_batches(self) -> tuple[Batches, Batches | None]:
        """Training and validation batches (this process's shares); in-memory data moves to the device once, here."""
        t, data = self.training, self.data
        val_size = max(t.batch_size, EVAL_BATCH)
        shard, nhwc = self.runtime.shard(), self.runtime.channels_last
        if data.streaming:
            train: Batches = stream_batches(data.dataset("train"), t.batch_size, t.shuffle, t.seed, self.device,
                                            shard=shard, channels_last=nhwc)
            if not data.n_val:
                return train, None
            return train, stream_batches(data.dataset("val"), val_size, False, t.seed, self.device, shard=shard,
                                         channels_last=nhwc)
        device = self.device
        x, y = data.tensors("train")
        train = TensorBatches(x.to(device), y.to(device), t.batch_size, t.shuffle, t.seed, shard=shard,
                              channels_last=nhwc)
        if not data.n_val:
            return train, None
        x, y = data.tensors("val")
        return train, TensorBatches(x.to(device), y.to(device), val_size, False, t.seed, shard=shard,
                                    channels_last=nhwc)

    # --- control from other threads ---------------------------------------------------------------

    def request_stop(self) -> None:
        """Stop at the next batch boundary (also wakes a paused fit)."""
        self.control.request_stop()

    def pause(self) -> None:
        """Block the fit at the next batch boundary until :meth:`resume` or :meth:`request_stop`."""
        self.control.pause()

    def resume(self) -> None:
        self.control.resume()

    @property
    def paused(self) -> bool:
        return self.control.paused

    def training_state(self) -> FitState:
        """Everything needed to continue this fit exactly: weights, optimizer, schedule, scaler, RNG, position."""
        return {**capture(self.model, self.optimizer, self.schedule, self.position, self.device),
                **self.runtime.state_dict()}

    # --- the loop ---------------------------------------------------------------------------------

    def fit(self, resume: FitState | None = None) -> FitResult:
        """Train until the epochs are done or a stop condition holds; ``resume`` continues a saved state."""
        end: FitEnd | None = None
        try:
            # Under torchrun a collective that lost its peer becomes one clear RankFailed line.
            with intra_op_threads(self.threads), guarded():
                self.begin(resume)
                while end is None:
                    end = self.step()
        finally:
            if end is None:  # an exception: the hooks and flags still go
                self._close()
        return end

    def begin(self, resume: FitState | None = None) -> None:
        """Start a fit (``resume`` continues a saved state) and send ``FitStart``; then :meth:`step` it.

        :meth:`fit` does both; a driver that steps several trainers in turn (the lab's race) calls them itself.
        """
        if resume is not None:
            self.position = restore(resume, self.model, self.optimizer, self.schedule, self.device)
            self.runtime.load_state_dict(resume)
        else:
            torch.manual_seed(self.training.seed)  # dropout draws the same numbers on every fresh fit
            self.position = FitPosition()
        self._stats = self._stats_collector()
        self._window = BatchWindow(self.loss_fn.predict if self._classify else None)
        self._last_good = LastGood(self.model, self.position.step, self.optimizer)
        self._source = None
        self._reached: Verdict | None = None  # a batch reached the target loss: the fit ends at the next boundary
        self._batch_schedule = self.schedule.interval == Interval.BATCH
        self._clock = self._window_start = time.perf_counter()
        self.model.train()
        self.callbacks.on_fit_start(self, self._fit_start())

    def step(self, batch: Batch | None = None) -> FitEnd | None:
        """Train one batch, then close the epoch if it was its last; the :class:`FitEnd` once the fit is over.

        ``batch`` stands in for the next batch of the trainer's own order: the race feeds each lane the same one.
        Stop and pause requests are honoured here, before the batch.
        """
        p = self.position
        verdict = self._check_flags() if self.control.held(p.step) else None
        verdict = verdict or self._reached
        if verdict is None and p.epoch >= self.training.epochs:  # a resumed fit that had already finished
            verdict = EndReason.COMPLETED, f"Finished {p.epoch} epoch(s)."
        if verdict is None and p.batch < self.steps_per_epoch:
            if self._source is None:  # the epoch's first step in this fit
                self._source = self._batches.epoch(p.epoch, start=p.batch)  # a generator: unread when fed
                self._clock = self._window_start = time.perf_counter()
            x, y = next(self._source) if batch is None else batch
            verdict = self._train(x, y)
        if verdict is None and p.batch >= self.steps_per_epoch:
            self._source = None
            self._add_time()
            verdict = stopping.after_epoch(p, self.training, self._end_epoch())
        return None if verdict is None else self._end(verdict)

    @property
    def batches(self) -> Batches:
        """The training batches, in the order of (seed, epoch) that :meth:`step` follows when not fed."""
        return self._batches

    @property
    def _classify(self) -> bool:
        return self.loss_fn.task == Task.CLASSIFICATION

    def _stats_collector(self) -> LayerStatsCollector | None:
        if not self.training.stats_every or not isinstance(self.model, nn.Sequential) or not self.runtime.writer:
            return None
        return LayerStatsCollector(self.model, self.layer_names, self.units)

    def _fit_start(self) -> FitStart:
        return FitStart(
            total_epochs=self.training.epochs,
            steps_per_epoch=self.steps_per_epoch,
            n_train=self.data.n_train,
            n_val=self.data.n_val,
            device=str(self.device),
            layer_names=self.layer_names,
            param_count=sum(p.numel() for p in self.model.parameters()),
            start_epoch=self.position.epoch,
            processes=self.runtime.world_size,
            precision=self.training.precision,
        )

    def _train(self, x: torch.Tensor, y: torch.Tensor) -> Verdict | None:
        """One optimizer step on one batch; a verdict when the window fetched after it held a non-finite loss."""
        p = self.position
        p.step += 1
        p.batch += 1
        stats = self._stats if self._stats is not None and p.step % self.training.stats_every == 0 else None
        if stats is not None:  # a sampled step
            stats.begin()
        runtime, optimizer = self.runtime, self.optimizer
        out, loss = runtime.forward(self._eager if stats is not None else self._forward, self.loss_fn, x, y)
        optimizer.zero_grad(set_to_none=True)
        runtime.backward(loss, len(y), batch_length(self.data.n_train, self.training.batch_size, p.batch - 1))
        if stats is not None:
            runtime.unscale(optimizer)
            stats.after_backward()
        self._window.add(loss, out, y)
        # Windows follow the batch number, so a resumed fit reports on the same batches as an unbroken one.
        flush = p.batch % self.log_every == 0 or p.batch == self.steps_per_epoch
        if flush:
            self._last_good.take(p.step)  # the weights that gave this loss, before this step changes them
        runtime.step(optimizer)
        if self._batch_schedule:
            self.schedule.step()
        if stats is not None:
            self.callbacks.on_layer_stats(self, stats.finish(p.step, p.epoch + 1))
        return self._flush() if flush else None

    def _end(self, verdict: Verdict) -> FitEnd:
        reason, message = verdict
        p = self.position
        end = FitEnd(reason, p.epoch, p.step, p.best_epoch, p.best_loss, message, tuple(p.history))
        self._close()
        self.callbacks.on_fit_end(self, end)
        return end

    def _close(self) -> None:
        """The fit is over: statistics hooks off, flags back to running."""
        if self._stats is not None:
            self._stats.remove()
            self._stats = None
        self._source = None
        self.control.reset()

    def _add_time(self) -> None:
        now = time.perf_counter()
        self.position.totals.seconds += now - self._clock
        self._clock = now

    def _check_flags(self) -> Verdict | None:
        """At a batch boundary with a flag set: report the pending batches, then wait out a pause or stop."""
        verdict = self._flush() if len(self._window) else None  # the plots are current while paused
        if verdict is not None:
            return verdict
        if self.control.pausing:
            self._add_time()
            p = self.position
            self.callbacks.on_pause(self, Paused(p.epoch + 1, p.step, p.batch))
            self.control.hold()
            self._clock = self._window_start = time.perf_counter()
        if not self.control.stopping:
            return None
        self._add_time()
        return EndReason.STOPPED, stopping.stopped_message(self.position)

    def _flush(self) -> Verdict | None:
        """Fetch the window, check its losses and send a BatchEnd; a verdict when a loss was not finite."""
        p, last_good = self.position, self._last_good
        result = self._window.fetch(self.runtime.sum_ if self.runtime.group is not None else None)
        bad = result.first_non_finite
        if bad is not None:
            last_good.restore()
            back = len(result.losses) - bad - 1
            message = stopping.non_finite_message(
                result.losses[bad], p.step - back, p.epoch + 1, p.batch - back, last_good.good_step,
                current_lr(self.optimizer),
            )
            return EndReason.NON_FINITE, message
        last_good.commit()
        p.totals.add(result)
        now = time.perf_counter()
        speed = sum(result.sizes) / max(now - self._window_start, 1e-9)
        self._window_start = now
        acc = p.totals.accuracy(self._classify)
        event = BatchEnd(p.epoch + 1, p.step, p.batch, result.mean_loss, acc, current_lr(self.optimizer), speed,
                         self._penalty())
        self.callbacks.on_train_batch_end(self, event)
        self._reached = stopping.after_batch(p, self.training, result.losses[-1])
        return None

    def _penalty(self) -> float | None:
        return stopping.l2_penalty(self.optimizer) if self.training.report_penalty else None

    def _end_epoch(self) -> EpochEnd:
        """Validate, step an epoch schedule, update the record and tell the callbacks."""
        p = self.position
        totals, lr = p.totals, current_lr(self.optimizer)
        val_loss, val_acc = self._validate()
        event = EpochEnd(
            epoch=p.epoch + 1,
            train_loss=totals.loss,
            train_acc=totals.accuracy(self._classify),
            val_loss=val_loss,
            val_acc=val_acc,
            seconds=totals.seconds + (time.perf_counter() - self._clock),
            lr=lr,
            samples_per_s=totals.seen / max(totals.seconds, 1e-9),
            penalty=self._penalty(),
        )
        p.epoch, p.batch, p.totals = p.epoch + 1, 0, EpochTotals()
        p.history.append(event)
        p.record(stopping.monitored_loss(event))
        if self.schedule.interval == Interval.EPOCH:
            self.schedule.step(stopping.monitored_loss(event) if self.schedule.needs_metric else None)
        self.callbacks.on_epoch_end(self, event)
        return event

    def _validate(self) -> tuple[float | None, float | None]:
        if self._val_batches is None:
            return None, None
        reduce = self.runtime.sum_ if self.runtime.group is not None else None
        return evaluate_batches(self.model, self._val_batches.epoch(0), self.loss_fn, reduce, self.runtime.eval_context)


def merge_groups(groups: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Join the per-layer groups that share every setting (usually all of them) into one group.

    The update is the same either way, but each group costs a pass through the optimizer's Python
    code: three Adam groups instead of one took about 10% of a small MLP's step. A merged group
    lists its rows in ``"layers"``; layers with their own learning rate keep their own group.
    """
    merged: dict[str, dict[str, Any]] = {}
    for group in groups:
        settings = {k: v for k, v in group.items() if k not in ("params", "layer")}
        key = repr(sorted(settings.items()))  # values may be unhashable (lists)
        target = merged.setdefault(key, {"params": [], "layers": [], **settings})
        target["params"] += list(group["params"])
        target["layers"].append(group.get("layer"))
    return list(merged.values())
