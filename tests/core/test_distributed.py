"""Distributed pieces that need no second process: torchrun's environment, launch checks, failure words."""

from __future__ import annotations

import pytest
import torch

from studio.core import device
from studio.core.engine.distributed import Launch, RankFailed, check_launch, peer_failure, rank_device
from studio.core.errors import ConfigError, StudioError
from tests.core.test_device import GPUS, fake_machine


def test_launch_reads_torchruns_environment() -> None:
    env = {"RANK": "3", "LOCAL_RANK": "1", "WORLD_SIZE": "4", "LOCAL_WORLD_SIZE": "2"}
    launch = Launch.from_env(env)
    assert launch == Launch(rank=3, local_rank=1, world_size=4, local_world_size=2)
    assert not launch.writer and Launch.from_env({**env, "RANK": "0"}).writer
    assert Launch.from_env({}) is None  # a plain process
    assert Launch.from_env({"RANK": "0", "WORLD_SIZE": "1"}) is None  # torchrun with one process trains as one


def test_each_process_takes_its_own_gpu(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_machine(monkeypatch, GPUS, mps=False)
    launch = Launch(rank=3, local_rank=1, world_size=4, local_world_size=2)
    assert check_launch("auto", 64, 4, 2) == "cuda"
    assert rank_device("cuda", launch) == torch.device("cuda", 1)
    assert rank_device("cpu", launch) == torch.device("cpu")


@pytest.mark.parametrize(
    ("gpus", "setting", "batch", "world", "words", "field"),
    [
        ([], "cuda", 64, 2, "no CUDA device", "device"),
        (GPUS, "cuda:1", 64, 2, "pinned to cuda:1", "device"),
        (GPUS, "cuda", 64, 3, "need a GPU each, but it has 2", "device"),
        ([], "auto", 4, 8, "batch size (4) is smaller than the number of processes (8)", "batch_size"),
    ],
)
def test_a_launch_this_machine_cannot_run_is_one_clear_error(
    monkeypatch: pytest.MonkeyPatch, gpus: list, setting: str, batch: int, world: int, words: str, field: str
) -> None:
    fake_machine(monkeypatch, gpus, mps=False)
    with pytest.raises(ConfigError, match=words.replace("(", r"\(").replace(")", r"\)")) as info:
        check_launch(setting, batch, world, world)
    assert info.value.field == field


def test_mps_trains_in_one_process_only(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_machine(monkeypatch, [], mps=True)
    with pytest.raises(ConfigError, match="MPS trains in one process only"):
        check_launch("mps", 64, 2, 2)
    assert check_launch("cpu", 64, 2, 2) == "cpu"
    assert device.pick_device("auto").type == "mps"  # one process
    assert check_launch("auto", 64, 2, 2) == "cpu"  # several


def test_a_lost_peer_becomes_one_line_and_other_errors_stay_bugs() -> None:
    gloo = RuntimeError("[/pytorch/third_party/gloo/gloo/transport/tcp/pair.cc:561] Connection closed by peer "
                        "[127.0.0.1]:33997. This is typically caused by a remote worker crashing. GLHF!")
    failure = peer_failure(gloo)
    assert isinstance(failure, RankFailed) and isinstance(failure, StudioError)
    text = str(failure)
    assert "Connection closed by peer [127.0.0.1]:33997" in text and "pair.cc" not in text and "GLHF" not in text
    assert "\n" not in text and failure.exit_code == 1
    assert peer_failure(RuntimeError("mat1 and mat2 shapes cannot be multiplied")) is None
    assert peer_failure(ValueError("connection closed")) is None


def test_a_window_summed_over_processes_gives_global_means_and_counts() -> None:
    """Two processes with the same share: the same mean losses, twice the samples and correct answers."""
    from studio.core.engine.metrics import BatchWindow

    def window() -> BatchWindow:
        w = BatchWindow(lambda out: out.argmax(1))
        w.add(torch.tensor(0.5), torch.tensor([[1.0, 0.0], [0.0, 1.0]]), torch.tensor([0, 0]))
        w.add(torch.tensor(0.0), torch.zeros(0, 2), torch.zeros(0, dtype=torch.long))  # an empty share
        return w

    alone = window().fetch()
    pooled = window().fetch(reduce=lambda t: t * 2)
    assert alone.losses == pooled.losses == [0.5, 0.0] and alone.sizes == [2, 0] and alone.correct == 1
    assert pooled.sizes == [4, 0] and pooled.correct == 2
