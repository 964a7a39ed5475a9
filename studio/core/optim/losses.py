"""Loss functions as a registry: what each needs from the last layer and how it reads the targets.

A :class:`LossFn` takes the targets exactly as a dataset gives them (int64 class indices for
classification, float ``(N, d)`` for regression) and converts them as its loss needs: one-hot
for BCE/MSE on classes, ±1 for the single-output perceptron. It also checks that the network
has as many outputs as the loss needs, so a wrong last layer is a clear message, not a silent
broadcast.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch.nn.functional as F
from torch import Tensor

from studio.core.errors import ConfigError
from studio.core.params import Param, resolve
from studio.core.project import Choice
from studio.core.registry import Registry
from studio.core.vocab import Task

Criterion = Callable[[Tensor, Tensor], Tensor]
# make(values, task, num_classes) -> criterion(output, y as the dataset gives it)
MakeLoss = Callable[[dict[str, Any], Task, int | None], Criterion]
Outputs = Callable[[Task, int | None, int | None], int]


def predict_classes(output: Tensor) -> Tensor:
    """Class indices from network outputs: argmax, or ``output > 0`` when there is a single output."""
    if output.shape[-1] == 1:
        return (output[..., 0] > 0).long()
    return output.argmax(dim=-1)


@dataclass(frozen=True)
class LossType:
    """A registered loss: settings, the tasks it fits, how to build it and how many outputs it needs.

    ``code`` is the exported ``train.py``'s expression of ``(output, y)``, formatted with the settings
    (``targets_like`` and ``perceptron_loss`` are defined there); None when plain PyTorch has no match.
    """

    name: str
    label: str
    description: str
    params: tuple[Param, ...]
    tasks: tuple[Task, ...]
    make: MakeLoss
    outputs: Outputs
    predict: Callable[[Tensor], Tensor] = predict_classes
    code: str | None = None


class LossFn:
    """A built loss: ``loss_fn(output, y)`` is a scalar tensor; ``predict(output)`` gives class indices."""

    def __init__(self, kind: LossType, criterion: Criterion, task: Task, num_classes: int | None) -> None:
        self.kind = kind
        self.task = task
        self.num_classes = num_classes
        self._criterion = criterion
        # Regression output widths are checked against y itself, which is only known per batch.
        self._width = kind.outputs(task, num_classes, None) if task == Task.CLASSIFICATION else None

    def __call__(self, output: Tensor, y: Tensor) -> Tensor:
        self._check_width(output, y)
        return self._criterion(output, y)

    def predict(self, output: Tensor) -> Tensor:
        return self.kind.predict(output)

    def _check_width(self, output: Tensor, y: Tensor) -> None:
        expected = self._width if self._width is not None else (y.shape[-1] if y.dim() > 1 else 1)
        if output.dim() != 2 or output.shape[1] != expected:
            raise ConfigError(
                f"loss {self.kind.name}: the network gives outputs of shape {tuple(output.shape[1:])} per sample, "
                f"but this loss needs {expected}; set the last layer's size to {expected}",
                field="loss",
            )


def _one_hot_or_column(output: Tensor, y: Tensor) -> Tensor:
    """Class indices as float targets shaped like ``output``: a 0/1 column for one output, else one-hot."""
    if output.shape[1] == 1:
        return y.to(output.dtype).unsqueeze(1)
    return F.one_hot(y, output.shape[1]).to(output.dtype)


def _regression_style(fn: Callable[..., Tensor]) -> MakeLoss:
    """A ``make`` for losses that compare outputs with float targets; class labels become one-hot."""

    def make(values: dict[str, Any], task: Task, num_classes: int | None) -> Criterion:
        if task == Task.REGRESSION:
            # A 1-D target would broadcast against (N, 1) outputs into an (N, N) loss without a word.
            return lambda output, y: fn(output, y.to(output.dtype).reshape(len(y), -1), **values)
        return lambda output, y: fn(output, _one_hot_or_column(output, y), **values)

    return make


def _make_cross_entropy(values: dict[str, Any], task: Task, num_classes: int | None) -> Criterion:
    return lambda output, y: F.cross_entropy(output, y, label_smoothing=values["label_smoothing"])


def _make_multi_margin(values: dict[str, Any], task: Task, num_classes: int | None) -> Criterion:
    return lambda output, y: F.multi_margin_loss(output, y, p=values["p"], margin=values["margin"])


def perceptron_loss(output: Tensor, y: Tensor) -> Tensor:
    """The perceptron criterion: mean(max(0, −y·f(x))) with y ∈ {−1, +1} for one output;
    mean(max_j f_j − f_y) for several (zero exactly when the true class wins).

    A sample is a mistake when y·f(x) ≤ 0, a point on the boundary included (Rosenblatt's test); its
    gradient is −y·x there and zero on correctly classified samples, so one SGD step with lr 1 on a
    single sample is the rule w ← w + y·x. Whether a boundary point is on the boundary is the Sign
    layer's convention: with sgn(0) = +1 its output is +1, right for y = +1 and a mistake for y = −1.
    """
    if output.shape[1] == 1:
        margin = (y.to(output.dtype) * 2 - 1) * output[:, 0]
        return ((margin <= 0).to(output.dtype) * -margin).mean()
    true_score = output.gather(1, y.unsqueeze(1))[:, 0]
    return (output.max(dim=1).values - true_score).mean()


def _make_perceptron(values: dict[str, Any], task: Task, num_classes: int | None) -> Criterion:
    return perceptron_loss


def _classes(task: Task, num_classes: int | None, target_dim: int | None) -> int:
    """One output per class."""
    return _need(num_classes, "num_classes")


def _binary_single(task: Task, num_classes: int | None, target_dim: int | None) -> int:
    """One output for two classes (its sign decides), else one per class."""
    n = _need(num_classes, "num_classes")
    return 1 if n == 2 else n


def _targets_or_classes(task: Task, num_classes: int | None, target_dim: int | None) -> int:
    """As many outputs as targets for regression, one per class (one-hot) for classification."""
    if task == Task.REGRESSION:
        return _need(target_dim, "target_dim")
    return _need(num_classes, "num_classes")


def _need(value: int | None, what: str) -> int:
    if value is None:
        raise ValueError(f"{what} is needed to count the outputs")
    return value


def _register(name: str, label: str, description: str, params: Sequence[Param], tasks: tuple[Task, ...],
              make: MakeLoss, outputs: Outputs, code: str) -> None:
    LOSSES.register(name, LossType(name, label, description, tuple(params), tasks, make, outputs, code=code))


LOSSES: Registry[LossType] = Registry("loss")

_register(
    "cross_entropy", "Cross-entropy",
    "Softmax over the outputs, then −log of the true class's probability. The standard classification loss.",
    (Param("label_smoothing", "float", 0.0, "Spread this much of the target probability evenly over all classes "
           "(0.1 is common); discourages over-confident outputs.", min=0.0, max=0.99, label="label smoothing"),),
    (Task.CLASSIFICATION,), _make_cross_entropy, _classes,
    "F.cross_entropy(output, y, label_smoothing={label_smoothing!r})",
)
_register(
    "mse", "Mean squared error",
    "Mean of (output − target)². For classification the target is the one-hot vector of the class.",
    (), tuple(Task), _regression_style(F.mse_loss), _targets_or_classes,
    "F.mse_loss(output, targets_like(output, y))",
)
_register(
    "l1", "Mean absolute error (L1)",
    "Mean of |output − target|: less sensitive to outliers than MSE. Classes become one-hot targets.",
    (), tuple(Task), _regression_style(F.l1_loss), _targets_or_classes,
    "F.l1_loss(output, targets_like(output, y))",
)
_register(
    "huber", "Huber",
    "Squared error for small errors, absolute error beyond delta: MSE's smoothness with L1's robustness.",
    (Param("delta", "float", 1.0, "Where the loss switches from squared to absolute error.", min=1e-6, max=1e6,
           log=True),),
    tuple(Task), _regression_style(F.huber_loss), _targets_or_classes,
    "F.huber_loss(output, targets_like(output, y), delta={delta!r})",
)
_register(
    "bce_with_logits", "Binary cross-entropy (logits)",
    "Sigmoid on each output, then binary cross-entropy. Two classes use one output (positive means class 1); "
    "more classes use one output per class against the one-hot target.",
    (), (Task.CLASSIFICATION,), _regression_style(F.binary_cross_entropy_with_logits), _binary_single,
    "F.binary_cross_entropy_with_logits(output, targets_like(output, y))",
)
_register(
    "multi_margin", "Multi-class hinge",
    "The SVM hinge loss: every wrong class is penalised unless the true class beats it by the margin.",
    (
        Param("p", "int", 1, "1 for the hinge, 2 for the squared hinge.", min=1, max=2),
        Param("margin", "float", 1.0, "How far the true class must lead the others.", min=0.0, max=100.0),
    ),
    (Task.CLASSIFICATION,), _make_multi_margin, _classes,
    "F.multi_margin_loss(output, y, p={p!r}, margin={margin!r})",
)
_register(
    "perceptron", "Perceptron criterion",
    "mean(max(0, −y·f(x))) with y = ±1: zero for correctly classified samples, so only mistakes (y·f(x) ≤ 0, "
    "the boundary included) move the weights (by y·x with SGD and lr 1, Rosenblatt's rule). Several classes: "
    "max_j f_j − f_true.",
    (), (Task.CLASSIFICATION,), _make_perceptron, _binary_single,
    "perceptron_loss(output, y)",
)


def build_loss(choice: Choice, task: Task, num_classes: int | None) -> LossFn:
    """Validate the choice for ``task`` and build the loss; a loss that does not fit the task is a ConfigError."""
    kind = LOSSES.get(choice.name)
    task = Task(task)  # a ValueError for a task that does not exist
    if task not in kind.tasks:
        fitting = ", ".join(name for name, other in LOSSES.items() if task in other.tasks)
        raise ConfigError(
            f"the {kind.label} loss needs class labels, but this dataset is a {task} task; choose one of: {fitting}",
            field="loss",
        )
    if task == Task.CLASSIFICATION and (num_classes is None or num_classes < 2):
        raise ValueError(f"classification needs num_classes >= 2, got {num_classes!r}")
    values = resolve(kind.params, choice.params, f"loss {kind.name}")
    return LossFn(kind, kind.make(values, task, num_classes), task, num_classes)
