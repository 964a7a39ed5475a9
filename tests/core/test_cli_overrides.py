"""``train --set KEY=VALUE``, ``--lr``, ``--init-from`` and ``--resume ... --lr``: the perceptron lesson's
numbers, worked by hand, prove each one; bad keys and values are one line and exit status 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from studio.cli import main
from studio.core.runs import load_run


def _weights(folder: Path) -> tuple[float, float, float]:
    state = load_run(folder).state_dict
    (w1, w2), (b,) = state["0.weight"][0].tolist(), state["0.bias"].tolist()
    return w1, w2, b


def test_set_changes_the_project_before_training(tmp_path: Path) -> None:
    # sgn(0) = 0: the first epoch ends at w = (1, 1), b = 1 (worked out in tests/core/test_presets.py).
    assert main(["train", "--preset", "perceptron", "--epochs", "1", "--set", "model.layers[1].params.zero=0",
                 "--out", str(tmp_path / "zero"), "--json"]) == 0
    assert _weights(tmp_path / "zero") == (1.0, 1.0, 1.0)
    assert load_run(tmp_path / "zero").project.model.layers[1].params["zero"] == 0
    # Typed start (1, 1), -1 is already the answer: no mistake, nothing moves.
    assert main(["train", "--preset", "perceptron", "--epochs", "2", "--json", "--out", str(tmp_path / "typed"),
                 "--set", "model.layers[0].init_params.weight=[[1, 1]]",
                 "--set", "model.layers[0].init_params.bias=[-1]"]) == 0
    assert _weights(tmp_path / "typed") == (1.0, 1.0, -1.0)


def test_lr_is_the_learning_rate(tmp_path: Path) -> None:
    # lr 0.5 halves every step of the hand calculation: epoch 1 ends at (0, 0.5), 0.
    assert main(["train", "--preset", "perceptron", "--epochs", "1", "--lr", "0.5", "--json",
                 "--out", str(tmp_path / "half")]) == 0
    assert _weights(tmp_path / "half") == (0.0, 0.5, 0.0)


def test_resume_with_a_new_learning_rate(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = tmp_path / "run"
    assert main(["train", "--preset", "perceptron", "--epochs", "2", "--json", "--out", str(run)]) == 0
    assert _weights(run) == (1.0, 1.0, 0.0)  # after epoch 2 of the hand calculation
    capsys.readouterr()
    more = tmp_path / "more"
    assert main(["train", "--resume", str(run / "checkpoints"), "--epochs", "4", "--lr", "0.5", "--json",
                 "--out", str(more)]) == 0
    events = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert events[0] == {"event": "retune", "epoch": 2, "changes": ["lr 0.5 (was 1)"]}
    assert [e["epoch"] for e in events if e["event"] == "epoch_end"] == [3, 4]
    # Epoch 3 at lr 0.5: (0,0) sgn(0) = +1, a mistake -> b = -0.5; then every point is right.
    assert _weights(more) == (1.0, 1.0, -0.5)
    assert load_run(more).project.optimizer.params["lr"] == 0.5


def test_init_from_starts_from_saved_weights_and_says_what_it_loaded(tmp_path: Path,
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    run = tmp_path / "run"
    assert main(["train", "--preset", "perceptron", "--epochs", "1", "--json", "--out", str(run)]) == 0
    capsys.readouterr()
    # From (0, 1), 0 one more epoch is the hand calculation's epoch 2: (1, 1), 0.
    assert main(["train", "--preset", "perceptron", "--epochs", "1", "--init-from", str(run),
                 "--out", str(tmp_path / "next")]) == 0
    err = capsys.readouterr().err
    assert f"Loaded pretrained weights into 1 of 1 layers from {run}" in err and "loaded: 1 Linear 1" in err
    assert _weights(tmp_path / "next") == (1.0, 1.0, 0.0)
    checkpoint = next((run / "checkpoints").glob("*.ckpt"))
    assert main(["train", "--preset", "perceptron", "--epochs", "1", "--init-from", str(checkpoint), "--json"]) == 0
    first = json.loads(capsys.readouterr().out.splitlines()[0])
    assert first["event"] == "init_from" and first["loaded"] == ["1 Linear 1"]


@pytest.mark.parametrize(("args", "words"), [
    (["--set", "optimizer.params.lrr=1"], "unknown setting 'optimizer.params.lrr'"),
    (["--set", "model.layers[7].params.p=0.3"], "there is no [7]"),
    (["--set", "optimizer.params.lr=-1"], "learning rate must be at least"),
    (["--set", "model.layers[0].init_params.weight=[[1, 2, 3]]"],
     "Layer 1 (Linear): the typed weight has shape 1×3, but this layer's weight is 1×2 (outputs × inputs)"),
    (["--set", "optimizer.params.lr"], "--set needs KEY=VALUE"),
    (["--init-from", "nowhere"], "nowhere"),
])
def test_bad_settings_are_one_line_and_exit_2(args: list[str], words: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["train", "--preset", "perceptron", "--epochs", "1", *args]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and words in err and "Traceback" not in err


def test_a_resume_keeps_its_network(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = tmp_path / "run"
    assert main(["train", "--preset", "perceptron", "--epochs", "1", "--json", "--out", str(run)]) == 0
    capsys.readouterr()
    assert main(["train", "--resume", str(run / "checkpoints"), "--set", "model.layers[1].params.zero=0"]) == 2
    assert "a resumed run cannot change model.layers[1].params.zero" in capsys.readouterr().err
    assert main(["train", "--resume", str(run / "checkpoints"), "--init-from", str(run)]) == 2
    assert "use one of them" in capsys.readouterr().err
