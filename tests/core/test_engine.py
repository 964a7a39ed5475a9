"""The fit loop: hook order, learning, determinism, stop conditions, flags, non-finite losses."""

from __future__ import annotations

import math
import threading

import numpy as np
import pytest
import torch

from studio.core.callbacks import Callback, EventLog
from studio.core.data import PreparedData, Preprocessing
from studio.core.engine import Trainer, evaluate
from studio.core.errors import ConfigError
from studio.core.events import BatchEnd, EpochEnd, FitEnd, FitStart, LayerStats, Paused
from studio.core.project import Choice, LayerSpec, ModelSpec, Project, TrainingSpec

# --- tiny problems shared by the engine tests --------------------------------------------------------


def blobs(n: int = 48, n_val: int = 16, seed: int = 0, features: int = 4, classes: int = 3) -> PreparedData:
    """Well-separated Gaussian blobs: learnable in a few steps."""
    g = torch.Generator().manual_seed(seed)
    centres = torch.randn(classes, features, generator=g) * 3
    y = torch.randint(0, classes, (n + n_val,), generator=g)
    x = centres[y] + torch.randn(n + n_val, features, generator=g)
    return PreparedData(
        x[:n], y[:n], x[n:], y[n:], (features,), "classification", classes,
        tuple(str(c) for c in range(classes)), 0, Preprocessing("none"),
    )


def regression(n: int = 40, n_val: int = 8) -> PreparedData:
    g = torch.Generator().manual_seed(1)
    x = torch.randn(n + n_val, 3, generator=g)
    y = x @ torch.tensor([[1.0], [-2.0], [0.5]])
    return PreparedData(x[:n], y[:n], x[n:], y[n:], (3,), "regression", 0, (), 1, Preprocessing("none"))


def mlp_project(epochs: int = 2, batch_size: int = 8, stats_every: int = 3, lr: float = 0.05, **training) -> Project:
    layers = [LayerSpec("Linear", {"out_features": 16}), LayerSpec("ReLU"), LayerSpec("Linear", {"out_features": 3})]
    return Project(
        model=ModelSpec(layers),
        optimizer=Choice("sgd", {"lr": lr, "momentum": 0.9}),
        loss=Choice("cross_entropy"),
        training=TrainingSpec(epochs=epochs, batch_size=batch_size, stats_every=stats_every, device="cpu", **training),
    )


def metrics(history: tuple[EpochEnd, ...]) -> list[tuple]:
    """The reproducible part of a history (wall-clock fields left out)."""
    return [(e.epoch, e.train_loss, e.train_acc, e.val_loss, e.val_acc, e.lr) for e in history]


def weights(trainer: Trainer) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in trainer.model.state_dict().items()}


class CallAt(Callback):
    """Runs ``action(trainer)`` once, at the first BatchEnd whose step is ``step``."""

    def __init__(self, step: int, action) -> None:
        self.step, self.action = step, action

    def on_train_batch_end(self, trainer: Trainer, event: BatchEnd) -> None:
        if event.step == self.step and self.action is not None:
            action, self.action = self.action, None
            action(trainer)


# --- hooks and events ------------------------------------------------------------------------------


class HookOrder(Callback):
    def __init__(self) -> None:
        self.calls: list[tuple[str, int]] = []

    def on_fit_start(self, trainer, event):
        self.calls.append(("fit_start", event.start_epoch))

    def on_train_batch_end(self, trainer, event):
        self.calls.append(("batch", event.step))

    def on_layer_stats(self, trainer, event):
        self.calls.append(("stats", event.step))

    def on_epoch_end(self, trainer, event):
        self.calls.append(("epoch", event.epoch))

    def on_fit_end(self, trainer, event):
        self.calls.append(("fit_end", event.epochs_completed))


def test_hooks_are_called_in_order() -> None:
    # 40 samples / 8 = 5 batches per epoch; BatchEnd every 2 steps and after each epoch's last batch.
    recorder = HookOrder()
    Trainer(mlp_project(epochs=2, stats_every=3), data=blobs(n=40), callbacks=[recorder], log_every=2).fit()
    assert recorder.calls == [
        ("fit_start", 0),
        ("batch", 2), ("stats", 3), ("batch", 4), ("batch", 5), ("epoch", 1),
        ("stats", 6), ("batch", 7), ("stats", 9), ("batch", 9), ("batch", 10), ("epoch", 2),
        ("fit_end", 2),
    ]


def test_events_carry_plain_values() -> None:
    log = EventLog()
    result = Trainer(mlp_project(), data=blobs(), callbacks=[log], log_every=1).fit()
    (start,) = log.of_type(FitStart)
    assert (start.steps_per_epoch, start.n_train, start.n_val, start.device) == (6, 48, 16, "cpu")
    assert start.layer_names == ("1 Linear 16", "2 ReLU", "3 Linear 3")
    assert start.param_count == 4 * 16 + 16 + 16 * 3 + 3
    for event in log.events:
        for value in vars(event).values():
            assert not isinstance(value, torch.Tensor)
    batches = log.of_type(BatchEnd)
    assert [b.step for b in batches] == list(range(1, 13))
    assert [b.batch for b in batches[:6]] == [1, 2, 3, 4, 5, 6]
    assert all(isinstance(b.loss, float) and 0 <= b.acc <= 1 and b.lr == 0.05 for b in batches)
    assert all(b.samples_per_s > 0 for b in batches)
    epochs = log.of_type(EpochEnd)
    assert [e.epoch for e in epochs] == [1, 2]
    # The epoch's training loss is the sample-weighted mean of its batch losses.
    assert epochs[0].train_loss == pytest.approx(np.mean([b.loss for b in batches[:6]]))
    assert epochs[0].train_acc == batches[5].acc
    assert log.events[-1] is result and result.history == tuple(epochs)


def test_training_learns_and_evaluate_agrees() -> None:
    trainer = Trainer(mlp_project(epochs=6), data=blobs())
    result = trainer.fit()
    first, last = result.history[0], result.history[-1]
    assert last.train_loss < first.train_loss / 2
    assert last.val_acc > 0.9
    assert evaluate(trainer.model, trainer.data, trainer.loss_fn) == pytest.approx((last.val_loss, last.val_acc))


def test_regression_reports_no_accuracy() -> None:
    project = mlp_project(epochs=2, stats_every=0)
    project.model.layers[-1].params["out_features"] = 1
    project.loss = Choice("mse")
    log = EventLog()
    result = Trainer(project, data=regression(), callbacks=[log]).fit()
    assert all(b.acc is None for b in log.of_type(BatchEnd))
    assert result.history[-1].train_acc is None and result.history[-1].val_acc is None
    assert math.isfinite(result.history[-1].val_loss)
    assert not log.of_type(LayerStats)  # stats_every=0 switches statistics off


def test_same_project_gives_identical_runs_on_cpu() -> None:
    project = mlp_project(epochs=2)
    project.model.layers.insert(2, LayerSpec("Dropout", {"p": 0.3}))  # the global RNG matters too
    a, b = Trainer(project, data=blobs()), Trainer(project, data=blobs())
    ra, rb = a.fit(), b.fit()
    assert metrics(ra.history) == metrics(rb.history)
    for (name, wa), wb in zip(weights(a).items(), weights(b).values(), strict=True):
        assert torch.equal(wa, wb), name
    seeded = mlp_project(epochs=2, seed=7)
    assert metrics(Trainer(seeded, data=blobs()).fit().history) != metrics(ra.history)


def test_no_validation_split() -> None:
    data = blobs()
    data.x_val, data.y_val = data.x_val[:0], data.y_val[:0]
    result = Trainer(mlp_project(early_stopping_patience=1), data=data).fit()
    assert result.history[-1].val_loss is None and result.history[-1].val_acc is None
    assert result.best_val_loss == min(e.train_loss for e in result.history)  # monitored: training loss


# --- stop conditions -------------------------------------------------------------------------------


def test_request_stop_is_honoured_at_the_next_batch() -> None:
    trainer = Trainer(mlp_project(epochs=5), data=blobs(), callbacks=[CallAt(8, Trainer.request_stop)], log_every=1)
    result = trainer.fit()
    assert (result.reason, result.steps, result.epochs_completed) == ("stopped", 8, 1)
    assert "Stopped on request" in result.message
    # The flag is consumed: the next fit runs to the end.
    assert trainer.fit().reason == "completed"


def test_stop_requested_before_fit_stops_at_the_first_batch() -> None:
    trainer = Trainer(mlp_project(), data=blobs())
    trainer.request_stop()
    result = trainer.fit()
    assert (result.reason, result.steps, result.history) == ("stopped", 0, ())


def test_pause_blocks_until_resumed() -> None:
    seen: list[int] = []

    def pause_then_resume_later(trainer: Trainer) -> None:
        trainer.pause()
        steps_at_pause = trainer.position.step

        def watcher() -> None:
            # While paused, no further step runs; then let it go.
            threading.Event().wait(0.2)
            seen.append(trainer.position.step - steps_at_pause)
            trainer.resume()

        threading.Thread(target=watcher).start()

    log = EventLog()
    result = Trainer(mlp_project(epochs=2), data=blobs(), callbacks=[CallAt(3, pause_then_resume_later), log],
                     log_every=1).fit()
    assert seen == [0]
    assert result.reason == "completed" and result.steps == 12
    # Buffering callbacks hear of the pause once, right after the step it holds at.
    (paused,) = log.of_type(Paused)
    assert (paused.epoch, paused.step) == (1, 3)
    assert log.events[log.events.index(paused) - 1].step == 3


def test_stop_wakes_a_paused_fit() -> None:
    def pause_and_stop_from_another_thread(trainer: Trainer) -> None:
        trainer.pause()
        threading.Thread(target=trainer.request_stop).start()

    trainer = Trainer(mlp_project(), data=blobs(), callbacks=[CallAt(2, pause_and_stop_from_another_thread)],
                      log_every=1)
    result = trainer.fit()
    assert (result.reason, result.steps) == ("stopped", 2)
    assert not trainer.paused


def test_target_loss_stops_after_the_epoch_that_reaches_it() -> None:
    result = Trainer(mlp_project(epochs=10, target_loss=0.5), data=blobs()).fit()
    assert result.reason == "target_loss"
    losses = [e.train_loss for e in result.history]
    assert losses[-1] <= 0.5 and all(loss > 0.5 for loss in losses[:-1])
    assert "target loss" in result.message


def test_early_stopping_on_validation_loss() -> None:
    # Validation labels disagree with the training labels: the better the fit, the worse the validation loss.
    data = blobs(n=48, n_val=48)
    data.x_val, data.y_val = data.x_train.clone(), (data.y_train + 1) % 3
    result = Trainer(mlp_project(epochs=20, early_stopping_patience=2), data=data).fit()
    assert result.reason == "early_stopping"
    val = [e.val_loss for e in result.history]
    assert result.best_epoch == 1 + int(np.argmin(val)) and result.best_val_loss == min(val)
    assert result.epochs_completed == result.best_epoch + 2
    assert "not improved for 2 epoch" in result.message


def test_non_finite_loss_stops_at_once_and_keeps_the_last_good_weights() -> None:
    data = blobs()
    data.x_train[20, 0] = math.nan  # sample 20 is in batch 3 (unshuffled, 8 per batch)
    project = mlp_project(epochs=3, shuffle=False)
    reference = Trainer(project, data=blobs(), callbacks=[CallAt(1, Trainer.request_stop)], log_every=1)
    reference.fit()  # the weights after step 1, which gave the finite loss of step 2

    log = EventLog()
    trainer = Trainer(project, data=data, callbacks=[log], log_every=1)
    result = trainer.fit()
    assert (result.reason, result.steps, result.epochs_completed) == ("non_finite", 3, 0)
    assert "step 3 (epoch 1, batch 3)" in result.message and "lower" in result.message
    assert "learning rate" in result.message
    assert [b.step for b in log.of_type(BatchEnd)] == [1, 2]
    for (name, got), want in zip(weights(trainer).items(), weights(reference).values(), strict=True):
        assert torch.equal(got, want), name


def test_non_finite_inside_a_longer_window_falls_back_to_the_last_checked_weights() -> None:
    data = blobs()
    data.x_train[20, 0] = math.inf
    trainer = Trainer(mlp_project(shuffle=False), data=data, log_every=4)
    initial = weights(trainer)
    result = trainer.fit()
    assert result.reason == "non_finite" and "step 3" in result.message and "initial weights" in result.message
    assert all(torch.equal(a, b) for a, b in zip(weights(trainer).values(), initial.values(), strict=True))


def test_hooks_are_removed_even_when_a_callback_fails() -> None:
    class Boom(Callback):
        def on_layer_stats(self, trainer, event):
            raise RuntimeError("boom")

    trainer = Trainer(mlp_project(stats_every=1), data=blobs(), callbacks=[Boom()])
    with pytest.raises(RuntimeError, match="boom"):
        trainer.fit()
    assert all(not layer._forward_hooks for layer in trainer.model)


def test_bad_settings_are_config_errors() -> None:
    with pytest.raises(ConfigError) as info:
        Trainer(mlp_project(epochs=0), data=blobs())
    assert info.value.field == "training.epochs"
    with pytest.raises(ConfigError) as info:
        Trainer(mlp_project(batch_size=0), data=blobs())
    assert info.value.field == "training.batch_size"


def test_a_given_model_trains_as_one_group() -> None:
    model = torch.nn.Sequential(torch.nn.Linear(4, 3))
    result = Trainer(mlp_project(), data=blobs(), model=model).fit()
    assert isinstance(result, FitEnd) and result.reason == "completed"
    assert result.history[-1].train_loss < result.history[0].train_loss


def test_an_empty_training_split_is_a_config_error() -> None:
    data = blobs()
    data.x_train, data.y_train = data.x_train[:0], data.y_train[:0]
    with pytest.raises(ConfigError, match="training split is empty"):
        Trainer(mlp_project(), data=data)


def test_pausing_reports_the_pending_batches_first() -> None:
    class PauseAtStats(Callback):
        """Pauses at the statistics of step 3; the BatchEnd sent on pausing resumes."""

        def __init__(self) -> None:
            self.steps: list[int] = []

        def on_layer_stats(self, trainer, event):
            if event.step == 3:
                trainer.pause()

        def on_train_batch_end(self, trainer, event):
            self.steps.append(event.step)
            if trainer.paused:
                trainer.resume()

    unpaused = Trainer(mlp_project(), data=blobs(), log_every=4).fit()
    recorder = PauseAtStats()
    result = Trainer(mlp_project(), data=blobs(), callbacks=[recorder], log_every=4).fit()
    assert recorder.steps[:3] == [3, 4, 6]  # 3: flushed on pausing; then the usual windows of the epoch
    assert metrics(result.history) == metrics(unpaused.history)


def test_fit_summary_is_flat_and_plain() -> None:
    result = Trainer(mlp_project(), data=blobs()).fit()
    summary = result.summary()
    assert summary["reason"] == "completed" and summary["epochs_completed"] == 2
    assert summary["val_acc"] == result.history[-1].val_acc and "history" not in summary
    assert all(isinstance(v, (int, float, str, type(None))) for v in summary.values())


def test_layers_with_the_same_settings_share_one_optimizer_group() -> None:
    project = mlp_project()
    assert [g["layers"] for g in Trainer(project, data=blobs()).optimizer.param_groups] == [[0, 2]]
    project.model.layers[2].lr_mult = 0.5
    groups = Trainer(project, data=blobs()).optimizer.param_groups
    assert [(g["layers"], g["lr"]) for g in groups] == [([0], 0.05), ([2], 0.025)]


def test_evaluate_on_either_split() -> None:
    trainer = Trainer(mlp_project(epochs=3), data=blobs())
    result = trainer.fit()
    loss, acc = evaluate(trainer.model, trainer.data, trainer.loss_fn, split="train")
    assert 0 <= acc <= 1 and loss < result.history[0].train_loss
    assert trainer.model.training  # the model's mode is restored
    with pytest.raises(ValueError, match="split"):
        evaluate(trainer.model, trainer.data, trainer.loss_fn, split="test")
