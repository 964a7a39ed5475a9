"""What a trained network says about an input, read the way its loss trained the outputs.

Classification gives the predicted class, its probability and the raw score behind it; a
single-output network trained as a perceptron (perceptron loss, or ending in a Sign layer) makes a
hard ±1 decision, so it reports the sign and the score before the sign (w·x + b), with no
probability; regression gives the predicted values. ``python main.py predict`` prints these.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from torch import Tensor, nn

from studio.core.inspect.snapshot import class_probabilities, evaluating
from studio.core.layers import Sign
from studio.core.optim import LOSSES, predict_classes
from studio.core.vocab import Task


@dataclass(frozen=True)
class Readout:
    """One input's reading. ``probability`` is None for sign models; ``sign`` is None for the others."""

    index: int | None = None
    label: str = ""
    probability: float | None = None
    score: float | None = None
    sign: int | None = None
    values: tuple[float, ...] = ()

    def text(self) -> str:
        """One readable line (without the input's name)."""
        if self.index is None:
            return ", ".join(f"{v:.6g}" for v in self.values)
        if self.sign is not None:
            return f"class {self.label} (sign {self.sign:+d}), score {self.score:.6g}"
        return f"class {self.label}, probability {self.probability:.4f}, score {self.score:.6g}"

    def record(self) -> dict[str, object]:
        """The JSON form: class, index, probability, score and sign, or the values."""
        if self.index is None:
            return {"values": list(self.values)}
        return {"class": self.label, "index": self.index, "probability": self.probability, "score": self.score,
                "sign": self.sign}


def ends_in_sign(model: nn.Module) -> bool:
    children = list(model.children())
    return bool(children) and isinstance(children[-1], Sign)


def is_sign_model(model: nn.Module, loss_name: str, n_outputs: int) -> bool:
    """A single-output network trained as a perceptron: its output is a hard ±1 decision."""
    return n_outputs == 1 and (loss_name == "perceptron" or ends_in_sign(model))


def read_outputs(model: nn.Module, x: Tensor, task: Task, loss_name: str,
                 class_names: tuple[str, ...]) -> list[Readout]:
    """Readouts for a batch of preprocessed inputs ``x`` (on the model's device)."""
    with evaluating(model):
        if task != Task.CLASSIFICATION:
            return [Readout(values=tuple(row)) for row in model(x).float().cpu().tolist()]
        if ends_in_sign(model):
            scores = model[:-1](x).float().cpu()  # type: ignore[index]
            output = model[-1](scores)  # type: ignore[index]
        else:
            scores = output = model(x).float().cpu()
    if is_sign_model(model, loss_name, output.shape[-1]):
        return _signs(output, scores, class_names)
    predicted = _predict(loss_name)(output)
    probabilities = class_probabilities(output, loss_name)
    picked = [int(i) for i in predicted.tolist()]
    return [Readout(i, class_names[i], float(probabilities[row, i]),
                    float(scores[row, i if scores.shape[-1] > 1 else 0]))
            for row, i in enumerate(picked)]


def _predict(loss_name: str) -> Callable[[Tensor], Tensor]:
    """The loss's own rule for classes: argmax, or the sign of one output."""
    return LOSSES.get(loss_name).predict if loss_name in LOSSES else predict_classes


def _signs(output: Tensor, scores: Tensor, class_names: tuple[str, ...]) -> list[Readout]:
    """±1 from the network's output (its Sign's value; the score's sign when it has no Sign layer)."""
    readouts = []
    for value, score in zip(output[:, 0].tolist(), scores[:, 0].tolist(), strict=True):
        index = int(value > 0)  # the loss's rule: positive is the second class
        sign = (value > 0) - (value < 0)  # 0 only where a Sign layer's convention gives 0
        readouts.append(Readout(index, class_names[index], None, float(score), sign))
    return readouts
