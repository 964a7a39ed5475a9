"""The lab's commands: readable text, JSON lines, one-line user errors with status 2, sanity's exit status."""

from __future__ import annotations

import json

import pytest

from studio.cli import main
from studio.core.project import load_project


def _json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_probe_json_and_text(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["probe", "--preset", "perceptron", "--batch-size", "4", "--schemes", "zeros", "he", "--json"]) == 0
    (result,) = _json_lines(capsys.readouterr().out)
    assert result["event"] == "result" and [s["scheme"]["label"] for s in result["schemes"]] == ["zeros", "he"]
    assert main(["probe", "--preset", "perceptron", "--batch-size", "4", "--schemes", "constant:value=2"]) == 0
    assert "constant:value=2" in capsys.readouterr().out


def test_race_reports_tagged_epochs_and_the_result(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["race", "--preset", "perceptron", "--epochs", "1", "--json",
                 "--contestant", "plain=sgd:lr=1", "--contestant", "adam:lr=0.1"])
    assert code == 0
    lines = _json_lines(capsys.readouterr().out)
    assert {line["run"] for line in lines if line["event"] == "epoch_end"} == {"plain", "adam:lr=0.1"}
    assert lines[-1]["event"] == "result" and len(lines[-1]["contestants"]) == 2


def test_compare_text_summary(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["compare", "--preset", "perceptron", "--epochs", "1", "--vary", "lr", "--value", "0.5"]) == 0
    out = capsys.readouterr()
    assert "Learning rate: 1 → 0.5" in out.out and "[A]" in out.err and "[B]" in out.err


def test_lr_find_applies_the_suggestion(tmp_path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "tuned.json"
    assert main(["lr-find", "--preset", "curve-fit-tanh", "--steps", "40", "--end", "1",
                 "--apply", str(target)]) == 0
    assert "Suggested learning rate" in capsys.readouterr().out
    assert load_project(target).optimizer.params["lr"] != 0.05


def test_sanity_exit_status_says_pass_or_fail(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sanity", "--preset", "perceptron", "--per-class", "1", "--json"]) == 0
    assert _json_lines(capsys.readouterr().out)[-1]["passed"] is True
    assert main(["sanity", "--preset", "deep-linear-vanishing", "--max-epochs", "3"]) == 1
    assert capsys.readouterr().out.startswith("Fail")


def test_user_errors_are_one_line_and_status_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["probe", "--preset", "digits-mlp", "--schemes", "bogus"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: unknown initialisation 'bogus'") and err.count("\n") == 1
    assert main(["compare", "--preset", "digits-mlp", "--vary", "lr", "--value", "0.001"]) == 2
    assert "already" in capsys.readouterr().err
    assert main(["race", "--preset", "nope"]) == 2
