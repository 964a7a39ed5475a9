"""The ``Param``s of the project's own settings: how to train, and how to prepare the data.

Registry entries (layers, optimizers, datasets...) describe their settings themselves; these are
the settings of :class:`~studio.core.project.TrainingSpec` and :class:`~studio.core.project.DataSpec`
that belong to no entry. The GUI's forms are generated from them, like every other form.
"""

from __future__ import annotations

from collections.abc import Sequence

from studio.core.data import PREPROCESSINGS
from studio.core.params import Param
from studio.core.vocab import Precision


def training_params(devices: Sequence[str]) -> tuple[Param, ...]:
    """The training settings (fields of ``TrainingSpec``); ``devices`` are the values ``device`` may take here
    (``auto`` first: :func:`studio.core.device.device_choices`)."""
    return (
        Param("epochs", "int", 20, "How many passes over the training data.", min=1, max=10_000),
        Param("target_loss", "float", None, "Stop as soon as the training loss is at most this (of an epoch, or "
              "of one batch: see 'check the target').", min=0.0, max=1e6, optional=True, label="stop at loss"),
        Param("target_check", "choice", "epoch", "Compare the target with each epoch's mean training loss, or with "
              "every batch's loss (the fit stops right after the batch).", choices=("epoch", "batch"),
              label="check the target"),
        Param("early_stopping_patience", "int", None, "Stop when the validation loss has not improved for this "
              "many epochs.", min=1, max=1000, optional=True, label="early stopping"),
        Param("seed", "int", 0, "Random seed: the same seed gives the same run on the CPU.", min=0, max=2**31 - 1),
        Param("shuffle", "bool", True, "Shuffle the training samples every epoch."),
        Param("report_penalty", "bool", False, "Also plot and print the training loss plus the L2 penalty of weight "
              "decay (½·weight_decay·‖w‖²): with weight decay on, the data loss can rise while this total falls.",
              label="show the L2 penalty"),
        Param("device", "choice", "auto", "Where to train; auto prefers a GPU when there is one. The list under the "
              "form says what this computer has, and why a kind of device is missing.",
              choices=tuple(devices)),
        Param("precision", "choice", Precision.FP32, "Number format: fp32; bf16 (mixed precision, about twice as "
              "fast on recent GPUs, runs on the CPU too); fp16 (mixed, with a gradient scaler; CUDA GPUs only).",
              choices=tuple(Precision)),
        Param("channels_last", "bool", False, "Keep pictures as height × width × channels: faster convolutions on "
              "recent GPUs; the same numbers.", label="channels last"),
        Param("compile", "bool", False, "torch.compile the network: slow first steps, then faster on long runs of "
              "big networks; refused with a message where it cannot work."),
        Param("sync_batchnorm", "bool", True, "With several processes (torchrun), batch norm uses the statistics of "
              "the whole batch, as one process would.", label="sync batch norm"),
    )


def preparation_params() -> tuple[Param, ...]:
    """The settings shared by every dataset (a ``DataSpec`` without the dataset, plus the batch size)."""
    return (
        Param("preprocessing", "choice", "standardize", "How inputs are scaled, using statistics of the training "
              "split only. " + " ".join(f"{e.label}: {e.description}" for _, e in PREPROCESSINGS.items()),
              choices=tuple(PREPROCESSINGS.names())),
        Param("val_fraction", "float", 0.2, "Share of the samples held out to validate on (0 uses none).",
              min=0.0, max=0.9, label="validation fraction"),
        Param("subset_per_class", "int", None, "Use only this many training samples of each class (small, fast "
              "experiments).", min=1, max=1_000_000, optional=True, label="subset per class"),
        Param("seed", "int", 0, "Seed of the split and subset: the same seed picks the same samples.", min=0,
              max=2**31 - 1, label="split seed"),
        Param("batch_size", "int", 64, "Samples per gradient step.", min=1, max=65_536, label="batch size"),
    )
