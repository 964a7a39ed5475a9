"""The Backbone module: a torchvision classification network, classifier removed, as one row of the stack.

Only torch and torchvision are used here, never Training Studio: the python export copies the source of
:data:`EXPORTED` into ``model.py``, so an exported bundle builds the same module without Training Studio
and without torchvision's weights cache (the weights travel in the bundle's own files).

The module takes pictures with values in [0, 1] (1 or 3 channels, any size) and applies what the
network was trained with: grey pictures are repeated to RGB, other sizes are resized to ``size``, and
the ImageNet mean and standard deviation are subtracted and divided, inside the row, so training,
inspect and every export see the same thing.
"""

from __future__ import annotations

import torch
from torch import nn


def strip_classifier(net: nn.Module) -> tuple[str, int]:
    """Replace the network's last ``nn.Linear`` (its classifier) with ``nn.Identity``: its name and input width."""
    name, last = "", None
    for child_name, module in net.named_modules():
        if isinstance(module, nn.Linear):
            name, last = child_name, module
    if last is None:
        raise ValueError("it has no linear classifier to remove")
    net.set_submodule(name, nn.Identity())
    return name, last.in_features


def split_stages(net: nn.Module) -> list[nn.Module]:
    """The stages, first to last: the top-level children that hold weights; when there are fewer than 4,
    a plain ``nn.Sequential`` among them (the ``features`` of MobileNet, EfficientNet, ConvNeXt, VGG) is opened.
    """
    top = [m for m in net.children() if any(True for _ in m.parameters())]
    if len(top) >= 4:
        return top
    stages: list[nn.Module] = []
    for module in top:
        inner = [m for m in module.children() if any(True for _ in m.parameters())]
        stages.extend(inner if type(module) is nn.Sequential and inner else [module])
    return stages


class Backbone(nn.Module):
    """A torchvision network without its classifier: pictures in, one feature vector per picture out.

    ``trainable`` is -1 (every stage learns), 0 (none) or N (the last N stages); the others are frozen and
    kept in evaluation mode (their batch-norm statistics stay as loaded). ``early_lr`` is the learning-rate
    multiplier of the first stage; later stages rise geometrically to 1 at the last (:meth:`lr_groups`).
    """

    mean: torch.Tensor
    std: torch.Tensor

    def __init__(self, model: str, size: int, mean: tuple[float, ...], std: tuple[float, ...],
                 trainable: int = -1, early_lr: float = 1.0) -> None:
        super().__init__()
        import torchvision

        self.model, self.size, self.trainable, self.early_lr = model, size, trainable, early_lr
        self.normalisation = (tuple(mean), tuple(std))
        self.net = torchvision.models.get_model(model, weights=None)
        self.head, self.features = strip_classifier(self.net)
        self.pretrained = False  # set when weights are loaded into it: they are not drawn again from the seed
        self.register_buffer("mean", torch.tensor(mean, dtype=torch.float32).view(1, -1, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(std, dtype=torch.float32).view(1, -1, 1, 1), persistent=False)
        self.freeze()

    def stages(self) -> list[nn.Module]:
        return split_stages(self.net)

    def freeze(self) -> None:
        """Set ``requires_grad`` from ``trainable``: everything, nothing, or only the last N stages."""
        self.net.requires_grad_(self.trainable < 0)
        if self.trainable > 0:
            for stage in self.stages()[-self.trainable:]:
                stage.requires_grad_(True)

    def train(self, mode: bool = True) -> Backbone:
        super().train(mode)
        if mode and self.trainable >= 0:
            for stage in self.stages():
                if not any(p.requires_grad for p in stage.parameters()):
                    stage.eval()
        return self

    def lr_groups(self, lr: float) -> list[dict[str, object]]:
        """Optimizer groups of the trainable weights: stage i of n at ``lr × early_lr ** ((n-1-i)/(n-1))``."""
        stages = self.stages()
        n = len(stages)
        groups: list[dict[str, object]] = []
        seen: set[int] = set()
        for i, stage in enumerate(stages):
            params = [p for p in stage.parameters() if p.requires_grad]
            seen.update(id(p) for p in stage.parameters())
            if params:
                groups.append({"params": params, "lr": lr * self.early_lr ** ((n - 1 - i) / max(n - 1, 1))})
        rest = [p for p in self.net.parameters() if p.requires_grad and id(p) not in seen]
        if rest:  # weights outside every stage (a class token, position embeddings) sit at the start
            groups.insert(0, {"params": rest, "lr": lr * self.early_lr})
        return groups

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[1] == 1:
            x = x.expand(-1, 3, -1, -1)
        if x.shape[-2] != self.size or x.shape[-1] != self.size:
            x = torch.nn.functional.interpolate(x, size=(self.size, self.size), mode="bilinear", align_corners=False)
        out = self.net((x - self.mean) / self.std)
        return out if isinstance(out, torch.Tensor) else out[0]

    def extra_repr(self) -> str:
        mean, std = self.normalisation
        return (f"model={self.model!r}, size={self.size}, mean={mean!r}, std={std!r}, trainable={self.trainable}, "
                f"early_lr={self.early_lr!r}")


EXPORTED = (strip_classifier, split_stages, Backbone)
