"""Live inspection inside the fit: boundaries, evaluations, regression fits, the final snapshot,
and that watching a fit never changes it."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

from studio.core.engine import Trainer
from studio.core.inspect import (
    BoundaryGrid,
    Evaluation,
    InspectCallback,
    ModelSnapshot,
    PointSet,
    RegressionFit,
    boundary_grid,
    class_probabilities,
)
from studio.core.inspect.boundary import grid_points
from studio.core.project import Choice, DataSpec, LayerSpec, ModelSpec, Project, TrainingSpec


def moons_project(epochs: int = 2) -> Project:
    """A tiny MLP with batch norm and dropout on 200 moons points: both would expose a pass in train mode."""
    layers = [LayerSpec("Linear", {"out_features": 16}), LayerSpec("BatchNorm1d"), LayerSpec("Tanh"),
              LayerSpec("Dropout", {"p": 0.2}), LayerSpec("Linear", {"out_features": 2})]
    return Project(
        model=ModelSpec(layers),
        data=DataSpec("moons", {"n_samples": 200}, val_fraction=0.25),
        optimizer=Choice("adam", {"lr": 0.01}),
        training=TrainingSpec(epochs=epochs, batch_size=16, stats_every=0),
    )


def sine_project() -> Project:
    layers = [LayerSpec("Linear", {"out_features": 16}), LayerSpec("Tanh"), LayerSpec("Linear", {"out_features": 1})]
    return Project(model=ModelSpec(layers), data=DataSpec("sine", {"n_samples": 120}), loss=Choice("mse"),
                   training=TrainingSpec(epochs=2, batch_size=16, stats_every=0))


def fit(project: Project, every: int = 1) -> tuple[Trainer, list]:
    got: list = []
    clock = itertools.count().__next__  # one "second" per call: the time limit never holds a grid back
    trainer = Trainer(project, callbacks=[InspectCallback(got.append, boundary_every=every, clock=clock)], log_every=2)
    trainer.fit()
    return trainer, got


def of(kind: type, results: list) -> list:
    return [r for r in results if isinstance(r, kind)]


@pytest.fixture(scope="module")
def moons():
    return fit(moons_project())


def test_watching_a_fit_does_not_change_it(moons):
    watched, _ = moons
    plain = Trainer(moons_project(), log_every=2)
    plain.fit()
    for a, b in zip(watched.model.state_dict().values(), plain.model.state_dict().values(), strict=True):
        assert torch.equal(a, b)
    assert [e.val_loss for e in watched.position.history] == [e.val_loss for e in plain.position.history]


def test_points_first_then_a_boundary_every_few_steps(moons):
    trainer, got = moons
    assert isinstance(got[0], PointSet)
    assert len(got[0].train) == trainer.data.n_train and len(got[0].val) == trainer.data.n_val
    grids = of(BoundaryGrid, got)
    steps_per_epoch = len(trainer._batches)
    # one at the start, one per BatchEnd (every 2 steps), one per epoch, one at the end
    assert len(grids) >= 2 * steps_per_epoch // 2 + 2
    assert [g.step for g in grids] == sorted(g.step for g in grids)
    assert grids[0].step == 0 and grids[-1].step == trainer.position.step
    assert not np.array_equal(grids[0].probabilities, grids[-1].probabilities)  # it learned: the picture moved
    last = grids[-1]
    assert last.probabilities.shape == (100, 100, 2)
    np.testing.assert_allclose(last.probabilities.sum(-1), 1.0, rtol=1e-5)


def test_points_and_grid_are_in_raw_coordinates(moons):
    trainer, got = moons
    points = got[0]
    raw = trainer.data.x_train * torch.as_tensor(trainer.data.preprocessing.std) + torch.as_tensor(
        trainer.data.preprocessing.mean)
    np.testing.assert_allclose(points.train, raw.numpy(), atol=1e-5)
    x0, x1, y0, y1 = of(BoundaryGrid, got)[-1].extent
    assert x0 < points.train[:, 0].min() and x1 > points.train[:, 0].max()
    assert y0 < points.train[:, 1].min() and y1 > points.train[:, 1].max()


def test_grid_equals_the_model_on_preprocessed_grid_points(moons):
    trainer, got = moons
    grid = boundary_grid(trainer.model, trainer.data, "cross_entropy", (-1.0, 2.0, -0.5, 1.0), resolution=7)
    x = trainer.data.preprocessing.apply(torch.from_numpy(grid_points((-1.0, 2.0, -0.5, 1.0), 7)))
    trainer.model.eval()
    with torch.no_grad():
        expected = class_probabilities(trainer.model(x), "cross_entropy").numpy().reshape(7, 7, 2)
    np.testing.assert_allclose(grid.probabilities, expected, rtol=1e-5, atol=1e-6)
    assert grid.probabilities[0, -1] == pytest.approx(expected[0, 6])  # row 0 is y_min, the last column x_max


def test_epoch_evaluations_match_the_trainers_validation(moons):
    trainer, got = moons
    evaluations = of(Evaluation, got)
    history = trainer.position.history
    assert [e.epoch for e in evaluations[:-1]] == [h.epoch for h in history]
    for evaluation, epoch in zip(evaluations, history, strict=False):
        assert evaluation.report.accuracy == pytest.approx(epoch.val_acc)
        assert evaluation.report.total == trainer.data.n_val
    assert evaluations[-1].samples.features.shape == (trainer.data.n_val, 2)


def test_the_snapshot_comes_last_and_is_a_detached_cpu_copy(moons):
    trainer, got = moons
    snapshot = got[-1]
    assert isinstance(snapshot, ModelSnapshot) and not snapshot.model.training
    assert snapshot.epoch == 2 and snapshot.data is trainer.data
    for a, b in zip(snapshot.model.state_dict().values(), trainer.model.state_dict().values(), strict=True):
        assert torch.equal(a, b) and a.data_ptr() != b.data_ptr()


def test_regression_sends_fits_with_the_curve_over_the_input_range():
    trainer, got = fit(sine_project())
    fits = of(RegressionFit, got)
    assert len(fits) == 3  # two epochs and the end of the fit
    last = fits[-1]
    assert last.true.shape == last.predicted.shape == (trainer.data.n_val, 1)
    assert np.all(np.diff(last.curve_x) > 0) and len(last.curve_y) == len(last.curve_x)
    raw_x = last.x
    assert last.curve_x[0] <= raw_x.min() + 0.5 and last.curve_x[-1] >= raw_x.max() - 0.5
    assert np.isfinite(last.r2)
    assert not of(BoundaryGrid, got) and not of(Evaluation, got)


def test_epoch_views_are_throttled_in_time_but_the_last_epoch_always_comes():
    got: list = []
    frozen_clock = lambda: 0.0  # noqa: E731 - no time passes: only the first and the last epoch get through
    Trainer(moons_project(epochs=4), callbacks=[InspectCallback(got.append, clock=frozen_clock)], log_every=2).fit()
    assert [e.epoch for e in of(Evaluation, got)] == [1, 4, 4]  # first epoch, last epoch, end of the fit
