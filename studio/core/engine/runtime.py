"""How a fit computes: the device, the number format, the memory layout, compilation and the processes.

The fit loop says *what* happens in a step (forward, loss, backward, optimizer step); a
:class:`Runtime` decides *how*: on which device, under which autocast and gradient scaler
(:mod:`.precision`), with images in channels_last order, through ``torch.compile``, and, under
torchrun, through DistributedDataParallel with each process's loss weighted by its share of the
global batch (:mod:`.distributed`). With the defaults (fp32, no compile, one process) every
method is the plain PyTorch call, so the CPU path the tests pin down is the one users run.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

import torch
from torch import nn

from studio.core.device import pick_device
from studio.core.engine.distributed import Group
from studio.core.engine.precision import autocast, check_precision, make_scaler
from studio.core.errors import ConfigError
from studio.core.project import TrainingSpec

# torch.compile's backend; tests swap in "eager" (the same tracing, without building C++ kernels).
COMPILE_BACKEND = "inductor"

Forward = Callable[[torch.Tensor], torch.Tensor]


class Runtime:
    """The device, precision, layout, compilation and process group of one trainer."""

    def __init__(self, training: TrainingSpec, group: Group | None = None) -> None:
        self.group = group
        self.device = group.device if group is not None else pick_device(training.device)
        self.precision = check_precision(training.precision, self.device)
        self.scaler = make_scaler(self.precision, self.device)
        self.channels_last = training.channels_last
        self.sync_batchnorm = training.sync_batchnorm
        self.compile = training.compile
        if self.compile:
            check_compile()
        self._compiled_ok = False

    @property
    def world_size(self) -> int:
        return self.group.world_size if self.group is not None else 1

    @property
    def writer(self) -> bool:
        """Whether this process reports and writes (always, but for ranks above 0 under torchrun)."""
        return self.group is None or self.group.writer

    def shard(self) -> tuple[int, int]:
        """(rank, world size) for the batches."""
        return (self.group.rank, self.group.world_size) if self.group is not None else (0, 1)

    def place(self, model: nn.Module) -> nn.Module:
        """``model`` on the device, in channels_last order when asked (a no-op for layers without images)."""
        model = model.to(self.device)
        return model.to(memory_format=torch.channels_last) if self.channels_last else model

    def forwards(self, model: nn.Module) -> tuple[Forward, Forward]:
        """(fast, eager): the training forward, and the one for steps whose layers are watched.

        Under torchrun both go through DDP (which averages the gradients). With ``compile`` the fast one is
        compiled; steps that sample layer statistics run eagerly, because a compiled graph does not call the
        statistics' forward hooks.
        """
        eager: nn.Module = self.group.wrap(model, self.sync_batchnorm) if self.group is not None else model
        fast = torch.compile(eager, backend=COMPILE_BACKEND) if self.compile else eager
        return fast, eager

    def forward(self, module: Forward, loss_fn: Callable[..., torch.Tensor], x: torch.Tensor,
                y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The outputs and the mean loss of this process's batch, under the precision's autocast.

        A process whose share of the last batch is empty still takes part in the step, with a zero loss.
        """
        with self._compile_guard(), autocast(self.precision, self.device):
            out = module(x)
            loss = loss_fn(out, y) if len(y) else out.sum() * 0.0
        return out, loss

    def backward(self, loss: torch.Tensor, size: int, global_size: int) -> None:
        """Gradients of the global batch's mean loss: DDP averages over processes, so each weighs its share."""
        if self.group is not None:
            loss = loss * (self.world_size * size / global_size)
        with self._compile_guard():
            (self.scaler.scale(loss) if self.scaler is not None else loss).backward()
        self._compiled_ok = True

    def unscale(self, optimizer: torch.optim.Optimizer) -> None:
        """Make the gradients true gradients before anything reads them (fp16's scaler multiplies them)."""
        if self.scaler is not None:
            self.scaler.unscale_(optimizer)

    def step(self, optimizer: torch.optim.Optimizer) -> None:
        """The optimizer step (skipped by fp16's scaler when a gradient overflowed, which then lowers its scale)."""
        if self.scaler is None:
            optimizer.step()
            return
        self.scaler.step(optimizer)
        self.scaler.update()

    def sum_(self, tensor: torch.Tensor) -> torch.Tensor:
        """``tensor`` summed over all processes, in place (itself in one process)."""
        return self.group.sum_(tensor) if self.group is not None else tensor

    def eval_context(self) -> contextlib.AbstractContextManager[None]:
        """The autocast validation runs under (the training precision)."""
        return autocast(self.precision, self.device)

    def state_dict(self) -> dict[str, Any]:
        """What a checkpoint must carry for an exact resume beyond the model and optimizer: the scaler."""
        return {"scaler": self.scaler.state_dict()} if self.scaler is not None else {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if self.scaler is not None and state.get("scaler"):
            self.scaler.load_state_dict(state["scaler"])

    def _compile_guard(self) -> contextlib.AbstractContextManager[None]:
        return _compile_failure() if self.compile and not self._compiled_ok else contextlib.nullcontext()


def check_compile() -> None:
    """A :class:`ConfigError` where ``torch.compile`` cannot work at all (e.g. a Python it does not support yet)."""
    from torch._dynamo.eval_frame import is_dynamo_supported

    if not is_dynamo_supported():
        raise ConfigError("compile is not supported by this PyTorch on this Python; turn compile off", field="compile")


@contextlib.contextmanager
def _compile_failure() -> Iterator[None]:
    """Around the first compiled step: a failure to compile becomes one clear line instead of a long traceback."""
    try:
        yield
    except ConfigError:
        raise
    except Exception as exc:
        cause: BaseException = exc
        # torch wraps the backend's own error (the informative one): follow the chain to it.
        while (inner := getattr(cause, "inner_exception", None) or cause.__cause__ or cause.__context__) is not None:
            cause = inner
        first = (str(cause).strip().splitlines() or [type(cause).__name__])[0][:200]
        raise ConfigError(f"compile failed on this machine ({first}); turn compile off", field="compile") from exc
