"""``predict`` and ``weights`` on a run folder, a checkpoint and an export bundle: the readout fits the model
(class, probability and score; ±1 for a perceptron; values for regression); bad inputs are one line, exit 2."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from studio.cli import main
from studio.core.data import Preprocessing
from studio.core.trained import open_trained


def _lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


@pytest.fixture(scope="module")
def perceptron(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The perceptron lesson trained to the hand calculation's answer: w = (1, 1), b = -1."""
    run = tmp_path_factory.mktemp("perceptron") / "run"
    assert main(["train", "--preset", "perceptron", "--json", "--out", str(run)]) == 0
    return run


@pytest.fixture(scope="module")
def digits(tmp_path_factory: pytest.TempPathFactory) -> Path:
    run = tmp_path_factory.mktemp("digits") / "run"
    assert main(["train", "--preset", "digits-mlp", "--epochs", "1", "--set", "data.subset_per_class=10", "--json",
                 "--out", str(run)]) == 0
    return run


def test_perceptron_predictions_are_signs_with_the_score_before_the_sign(perceptron: Path, tmp_path: Path,
                                                                         capsys: pytest.CaptureFixture[str]) -> None:
    rows = tmp_path / "rows.csv"
    rows.write_text("x1,x2\n0,0\n1,1\n0.25,0.25\n0,1\n", encoding="utf-8")
    capsys.readouterr()
    assert main(["predict", str(perceptron), "--input", str(rows), "--json"]) == 0
    got = _lines(capsys.readouterr().out)
    assert [(g["input"], g["class"], g["sign"], g["score"], g["probability"]) for g in got] == [
        ("row 1", "-1", -1, -1.0, None), ("row 2", "1", 1, 1.0, None), ("row 3", "-1", -1, -0.5, None),
        ("row 4", "1", 1, 0.0, None),  # on the boundary: sgn(0) = +1
    ]
    assert main(["predict", str(perceptron), "--input", str(rows)]) == 0
    assert capsys.readouterr().out.splitlines()[0] == "row 1  class -1 (sign -1), score -1"


def test_a_csv_in_the_training_layout_skips_its_label_column(perceptron: Path, tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    rows = tmp_path / "train.csv"
    rows.write_text("a,b,label\n1,1,1\n0,0,-1\n", encoding="utf-8")
    capsys.readouterr()
    assert main(["predict", str(perceptron), "--input", str(rows), "--json"]) == 0
    assert [g["sign"] for g in _lines(capsys.readouterr().out)] == [1, -1]


@pytest.mark.parametrize(("text", "words"), [
    ("1,2,3\n", "rows.csv, line 1: 3 values, but the model takes 2 inputs per row"),
    ("x1,x2\n1,2\n3\n", "rows.csv, line 3: 1 values, but the model takes 2 inputs per row"),
    ("1,abc\n", "rows.csv, line 1: 'abc' is not a number"),
])
def test_a_wrong_row_is_one_line_and_exit_2(perceptron: Path, tmp_path: Path, text: str, words: str,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    rows = tmp_path / "rows.csv"
    rows.write_text(text, encoding="utf-8")
    capsys.readouterr()
    assert main(["predict", str(perceptron), "--input", str(rows)]) == 2
    err = capsys.readouterr().err
    assert err == f"error: {words}\n"


def test_pictures_only_for_picture_models(perceptron: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    Image.new("L", (8, 8), 0).save(tmp_path / "a.png")
    capsys.readouterr()
    assert main(["predict", str(perceptron), "--input", str(tmp_path / "a.png")]) == 2
    assert "this model's inputs are not pictures" in capsys.readouterr().err
    assert main(["predict", str(tmp_path / "nothing"), "--input", str(tmp_path / "a.png")]) == 2


def test_digits_from_run_checkpoint_and_bundle_agree_with_the_model(digits: Path, tmp_path: Path,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    pictures = tmp_path / "pictures"
    pictures.mkdir()
    rng = np.random.default_rng(0)
    for name in ("b.png", "a.png"):
        Image.fromarray((rng.random((16, 16)) * 255).astype(np.uint8)).save(pictures / name)
    (pictures / "notes.txt").write_text("not a picture")
    bundle = tmp_path / "bundle"
    assert main(["export", str(digits), "--format", "bundle", "--out", str(bundle)]) == 0
    outputs = []
    for source in (digits, digits / "checkpoints", bundle):
        capsys.readouterr()
        assert main(["predict", str(source), "--input", str(pictures), "--json"]) == 0
        outputs.append(_lines(capsys.readouterr().out))
    assert outputs[0] == outputs[1] == outputs[2]
    first = outputs[0][0]
    assert [o["input"] for o in outputs[0]] == ["a.png", "b.png"] and first["sign"] is None
    # The probability is the softmax of the network's outputs; the score is the output of that class.
    trained = open_trained(digits)
    x = torch.rand(1, 64)
    rows = tmp_path / "rows.csv"
    rows.write_text(",".join(f"{v:.8f}" for v in x[0].tolist()) + "\n", encoding="utf-8")
    capsys.readouterr()
    assert main(["predict", str(digits), "--input", str(rows), "--json"]) == 0
    (got,) = _lines(capsys.readouterr().out)
    x = torch.tensor([[float(f"{v:.8f}") for v in x[0].tolist()]])
    with torch.no_grad():
        out = trained.model(Preprocessing.from_dict(trained.info.preprocessing).apply(x))[0]
    assert got["index"] == int(out.argmax()) and got["class"] == str(got["index"])
    assert got["score"] == pytest.approx(out.max().item(), rel=1e-5)
    assert got["probability"] == pytest.approx(torch.softmax(out, 0).max().item(), rel=1e-5)


def test_regression_prints_the_values(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = tmp_path / "run"
    assert main(["train", "--preset", "curve-fit-tanh", "--epochs", "1", "--json", "--out", str(run)]) == 0
    rows = tmp_path / "x.csv"
    rows.write_text("x\n0.5\n-1\n", encoding="utf-8")
    capsys.readouterr()
    assert main(["predict", str(run), "--input", str(rows), "--json"]) == 0
    got = _lines(capsys.readouterr().out)
    trained = open_trained(run)
    with torch.no_grad():
        expected = trained.model(Preprocessing.from_dict(trained.info.preprocessing).apply(
            torch.tensor([[0.5], [-1.0]])))
    assert [g["input"] for g in got] == ["row 1", "row 2"]
    assert [g["values"][0] for g in got] == pytest.approx(expected[:, 0].tolist(), rel=1e-5)


def test_weights_print_values_for_small_layers_and_statistics_for_large(perceptron: Path, digits: Path,
                                                                        capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert main(["weights", str(perceptron)]) == 0
    assert capsys.readouterr().out == "1 Linear 1\n  weight 1×2: [[1, 1]]\n  bias 1: [-1]\n"
    assert main(["weights", str(perceptron / "checkpoints"), "--json"]) == 0
    (record,) = _lines(capsys.readouterr().out)
    assert record == {"layer": 1, "label": "1 Linear 1", "tensors": [
        {"name": "weight", "shape": [1, 2], "values": [[1.0, 1.0]]}, {"name": "bias", "shape": [1], "values": [-1.0]}]}
    assert main(["weights", str(digits), "--layer", "1", "--json"]) == 0
    (layer,) = _lines(capsys.readouterr().out)
    weight = layer["tensors"][0]
    assert weight["shape"] == [128, 64] and set(weight["stats"]) == {"count", "mean", "std", "min", "max"}
    state = open_trained(digits).model.state_dict()["0.weight"]
    assert weight["stats"]["mean"] == pytest.approx(state.mean().item(), rel=1e-5)
    assert main(["weights", str(digits), "--layer", "2"]) == 0
    assert capsys.readouterr().out == "2 ReLU: no weights\n"
    assert main(["weights", str(digits), "--layer", "9"]) == 2
    assert capsys.readouterr().err == "error: there is no layer 9; the network has 5 layers (counted from 1)\n"
