"""Command-line progress (issue 16, point 7): a tqdm bar with an ETA on a terminal, plain lines in a log;
probe and lr-find show theirs too."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

from studio.cli import main as cli_main
from studio.cli.reporting import ProgressBar, Steps
from studio.core.engine import Trainer
from tests.core.test_engine import blobs, mlp_project

ROOT = Path(__file__).resolve().parents[2]
ESCAPES = ("\r", "\x1b")


class Terminal(io.StringIO):
    """A stream that says it is a terminal, as stderr does in a shell."""

    def isatty(self) -> bool:
        return True


def train(stream: io.StringIO, every: float) -> str:
    bar = ProgressBar(stream)
    bar.PLAIN_EVERY = every
    Trainer(mlp_project(epochs=3, batch_size=4), data=blobs(n=96), callbacks=[bar], log_every=1).fit()
    return stream.getvalue()


def test_a_log_gets_plain_lines_with_the_share_and_the_time_left():
    text = train(io.StringIO(), every=0.0)
    assert not any(code in text for code in ESCAPES)
    lines = text.splitlines()
    assert lines[0].startswith("training on cpu: 96 samples")
    progress = [line for line in lines if "of the fit" in line]
    assert progress and all(line.endswith(" left") for line in progress)
    assert [line.split()[1] for line in lines if "train loss" in line] == ["1/3", "2/3", "3/3"]
    assert lines[-1].startswith("finished") or "epoch" in lines[-1]


def test_a_log_is_not_flooded():
    lines = train(io.StringIO(), every=3600.0).splitlines()
    assert not [line for line in lines if "of the fit" in line]  # one line per epoch only
    assert len(lines) == 1 + 3 + 1


def test_a_terminal_gets_a_bar_with_an_eta():
    text = train(Terminal(), every=0.0)
    assert "\r" in text and "batch" not in text.split("\n", 1)[0]
    assert "epoch 3/3" in text and "<" in text and "/72" in text  # 3 epochs of 24 batches, elapsed<remaining
    assert "train loss" in text


def test_steps_plain_and_on_a_terminal():
    log = io.StringIO()
    with Steps("sweep", log) as progress:
        for i in range(5):
            progress(i / 4, f"step {i}")
    assert log.getvalue().splitlines() == ["sweep: step 0 (0%)", "sweep: step 4 (100%)"]
    term = Terminal()
    with Steps("sweep", term) as progress:
        progress(0.5, "half way")
        assert progress.bar is not None and progress.bar.n == 500
        assert str(progress.bar).startswith("sweep  50%|") and str(progress.bar).endswith("half way")
    assert progress.bar is None and term.getvalue().startswith("\rsweep")


def test_probe_and_lr_find_show_progress(capsys):
    assert cli_main(["probe", "--preset", "digits-mlp", "--schemes", "zeros", "he"]) == 0
    err = capsys.readouterr().err
    assert "probe: Probing" in err or "probe: Preparing data" in err
    assert err.splitlines()[-1] == "probe: Probe done (100%)"
    assert cli_main(["lr-find", "--preset", "digits-mlp", "--steps", "20"]) == 0
    err = capsys.readouterr().err
    assert err.startswith("lr-find: ") and "(100%)" in err or "diverged" in err


def test_train_into_a_log_file_has_no_escape_codes(tmp_path):
    log = tmp_path / "train.log"
    with log.open("w") as stderr:
        proc = subprocess.run([sys.executable, str(ROOT / "main.py"), "train", "--preset", "digits-mlp", "--epochs",
                               "1"], stdout=subprocess.PIPE, stderr=stderr, text=True, timeout=300, cwd=ROOT)
    assert proc.returncode == 0
    text = log.read_text()
    assert "epoch 1/1" in text and text.endswith("\n")
    assert not any(code in text for code in ESCAPES)
