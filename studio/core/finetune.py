"""Fine-tuning: start a network from weights trained elsewhere and adapt it to a new task.

Weights are matched layer by layer *by position among the layers that have weights* (so adding
or removing a ReLU or Dropout does not shift anything) and loaded only when every tensor of the
layer has the same name and shape; the :class:`LoadReport` says what was loaded and why the rest
was not. Rows inside blocks are layers like any other (their weights sit under the block's module, e.g.
``2.body.0``), so a network with blocks fine-tunes from one with the same blocks, or from a plain one whose
weighted layers come in the same order with the same shapes. Freezing and per-layer learning rates are
plain ``LayerSpec`` fields (``frozen``, ``lr_mult``) that the optimizer's ``param_groups`` honours; helpers
here set them.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn

from studio.core.checkpoint import latest_checkpoint
from studio.core.errors import ConfigError, ProjectFileError
from studio.core.layers import LAYERS, as_path
from studio.core.project import LayerSpec, ModelSpec
from studio.core.safeload import load_weights
from studio.core.tree import Path as RowPath
from studio.core.tree import iter_rows, row_at

Source = str | os.PathLike[str] | Mapping[str, torch.Tensor] | nn.Module
# Files looked for, in order, when a fine-tuning source is a folder (a run or an export bundle).
_FOLDER_WEIGHTS = ("model.safetensors", "weights.safetensors", "weights.pt", "state_dict.pt")


@dataclass
class LoadReport:
    """Which layers got pretrained weights and why the others did not."""

    loaded: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    unused: list[str] = field(default_factory=list)
    source: str = ""

    def summary(self) -> str:
        """A few readable lines for the GUI and the command line."""
        total = len(self.loaded) + len(self.skipped)
        lines = [f"Loaded pretrained weights into {len(self.loaded)} of {total} layers from {self.source}."]
        lines += [f"  loaded: {name}" for name in self.loaded]
        lines += [f"  not loaded: {name}: {reason}" for name, reason in self.skipped]
        if self.unused:
            lines.append(f"  unused in the source: {', '.join(self.unused)}")
        return "\n".join(lines)


def load_pretrained(
    model: nn.Module, source: Source, names: Sequence[str] | Mapping[str, str] | None = None,
    exclude: Iterable[int | str] = (),
) -> LoadReport:
    """Copy matching weights from ``source`` into ``model`` (in place) and report what happened.

    ``names`` are display names: of the model's top-level layers (e.g. the stack labels), or by module name
    (``units.module_labels``: ``{"2.body.0": "3.1 Linear 64"}``, rows inside blocks too). ``exclude`` lists
    top-level indices or module names that must keep their fresh weights (e.g. a replaced output layer;
    excluding a block excludes its rows).
    """
    weights, where = _source_weights(source)
    target = _layers_with_state(dict(model.state_dict(keep_vars=True)))
    incoming = _layers_with_state(weights)
    report = LoadReport(source=where)
    excluded = {str(i) for i in exclude}
    queue = list(incoming)
    for prefix, tensors in target.items():
        name = _display_name(model, prefix, names)
        if any(prefix == e or prefix.startswith(f"{e}.") for e in excluded):
            report.skipped.append((name, "kept its new weights (excluded)"))
            continue
        if not queue:
            report.skipped.append((name, "the source has no more layers with weights"))
            continue
        src_prefix = queue.pop(0)
        problem = _mismatch(tensors, incoming[src_prefix])
        if problem:
            report.skipped.append((name, f"{problem} (source layer {src_prefix!r})"))
            continue
        _copy(tensors, incoming[src_prefix])
        report.loaded.append(name)
    report.unused = queue
    return report


def output_layer_path(spec: ModelSpec) -> RowPath:
    """Path of the last row with a number of outputs (the classifier head), inside blocks too."""
    heads = [path for path, row in iter_rows(spec.layers)
             if row.type in LAYERS and any(param.name == "out_features" for param in LAYERS.get(row.type).params)]
    if not heads:
        raise ConfigError("the network has no Linear layer whose outputs could be changed", field="layers")
    return heads[-1]


def output_layer_index(spec: ModelSpec) -> int:
    """The top-level row that holds the classifier head (the head itself, or the block around it)."""
    return output_layer_path(spec)[0]


def replace_output_layer(spec: ModelSpec, n_classes: int) -> ModelSpec:
    """A copy of ``spec`` whose last Linear layer has ``n_classes`` outputs (new, untrained weights)."""
    if n_classes < 1:
        raise ConfigError(f"the number of classes must be at least 1; got {n_classes}", field="n_classes")
    new = copy.deepcopy(spec)
    row_at(new.layers, output_layer_path(new)).params["out_features"] = n_classes
    return new


def freeze_layers(spec: ModelSpec, rows: Iterable[int | RowPath], frozen: bool = True) -> None:
    """Mark rows (top-level indices or paths) as frozen (their weights do not change during training)."""
    for where in rows:
        _layer(spec, where).frozen = frozen


def layerwise_lr(spec: ModelSpec, first: float = 0.1) -> None:
    """Learning-rate multipliers rising geometrically from ``first`` (first layer) to 1 (last layer).

    Early layers learn general features that a fine-tune should disturb least.
    """
    if not 0 < first <= 1:
        raise ConfigError(f"the first layer's multiplier must be in (0, 1]; got {first}", field="lr_mult")
    count = len(spec.layers)
    for index, layer in enumerate(spec.layers):
        position = index / (count - 1) if count > 1 else 1.0
        layer.lr_mult = round(first ** (1.0 - position), 6)


def _layer(spec: ModelSpec, where: int | RowPath) -> LayerSpec:
    try:
        return row_at(spec.layers, as_path(where))
    except IndexError:
        raise ConfigError(f"there is no layer {where} (the network has {len(spec.layers)})", field="layers") from None


def _source_weights(source: Source) -> tuple[dict[str, torch.Tensor], str]:
    """The source's ``name -> tensor`` mapping and how to name it in the report."""
    if isinstance(source, nn.Module):
        return dict(source.state_dict()), f"a {type(source).__name__} model"
    if isinstance(source, Mapping):
        return dict(source), "the given weights"
    path = Path(source)
    if path.is_dir():
        return load_weights(_folder_weights(path)), str(path)
    return load_weights(path), str(path)


def _folder_weights(folder: Path) -> Path:
    """The weights file inside a run folder, an export bundle or a folder of checkpoints."""
    for name in _FOLDER_WEIGHTS:
        if (folder / name).is_file():
            return folder / name
    found = latest_checkpoint(folder)
    if found is None:
        looked = ", ".join(_FOLDER_WEIGHTS)
        raise ProjectFileError(f"no weights found in {folder} (looked for {looked} and epoch-*.ckpt checkpoints)")
    return found


def _layers_with_state(state: Mapping[str, torch.Tensor]) -> dict[str, dict[str, torch.Tensor]]:
    """Group a state dict by layer (the key before the last dot), in order of appearance."""
    layers: dict[str, dict[str, torch.Tensor]] = {}
    for key, tensor in state.items():
        prefix, _, leaf = key.rpartition(".")
        layers.setdefault(prefix, {})[leaf] = tensor
    return layers


def _mismatch(target: Mapping[str, torch.Tensor], source: Mapping[str, torch.Tensor]) -> str | None:
    """Why ``source`` cannot fill ``target``, or None when every tensor matches by name and shape."""
    if set(target) != set(source):
        return f"different kinds of weights (source has {', '.join(source)}; here {', '.join(target)})"
    for leaf, tensor in target.items():
        if tuple(tensor.shape) != tuple(source[leaf].shape):
            return f"{leaf} shape {_shape(source[leaf])} in the source, {_shape(tensor)} here"
    return None


def _copy(target: Mapping[str, torch.Tensor], source: Mapping[str, torch.Tensor]) -> None:
    with torch.no_grad():
        for leaf, tensor in target.items():
            tensor.copy_(source[leaf].to(dtype=tensor.dtype, device=tensor.device))


def _display_name(model: nn.Module, prefix: str, names: Sequence[str] | Mapping[str, str] | None) -> str:
    if isinstance(names, Mapping):
        parts = prefix.split(".")
        for cut in range(len(parts), 0, -1):  # a block's own layer: "3 Residual (shortcut)"
            head, rest = ".".join(parts[:cut]), ".".join(parts[cut:])
            if head in names:
                return names[head] + (f" ({rest})" if rest else "")
    elif names is not None and prefix.isdigit() and int(prefix) < len(names):
        return names[int(prefix)]
    try:
        module = model.get_submodule(prefix)
    except AttributeError:
        return prefix
    return f"{prefix} {type(module).__name__}"


def _shape(tensor: torch.Tensor) -> str:
    return "×".join(str(d) for d in tensor.shape) or "scalar"
