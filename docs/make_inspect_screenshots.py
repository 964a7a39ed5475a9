"""Make the screenshots of docs/inspect.md: train small networks and grab each Inspect view.

Run from the repository root (takes a minute or two on a laptop):

    QT_QPA_PLATFORM=offscreen .venv/bin/python docs/make_inspect_screenshots.py

It trains the bundled digits MLP, a small CNN on digits written out as 28x28 MNIST files, a tiny
network on two moons and one on a noisy sine, through the real worker thread and the real
InspectCallback, then draws on the pad with simulated mouse strokes like a learner would.
"""

from __future__ import annotations

import struct
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image
from PySide6.QtCore import QEventLoop, QPoint, QPointF, Qt, QTimer
from PySide6.QtTest import QTest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from studio.app import create_app  # noqa: E402
from studio.core.presets import load_preset  # noqa: E402
from studio.core.project import Choice, DataSpec, LayerSpec, ModelSpec, Project, TrainingSpec  # noqa: E402
from studio.ui.dialogs import ScriptedDialogs  # noqa: E402
from studio.ui.inspect import InspectPanel  # noqa: E402
from studio.ui.workers import WorkerHost  # noqa: E402

IMAGES = ROOT / "docs" / "images"
SIZE = (1180, 780)


def wait(predicate: Callable[[], object], timeout_s: float = 300.0) -> None:
    """Run the event loop until ``predicate()`` holds.

    An event loop, not a ``QTest.qWait`` polling loop: polling slowed the worker's training about
    fifteenfold here (10 s became 130-200 s for three digits epochs).
    """
    loop = QEventLoop()
    timer = QTimer()
    deadline = time.monotonic() + timeout_s
    timer.timeout.connect(lambda: loop.quit() if predicate() or time.monotonic() > deadline else None)
    timer.start(50)
    if not predicate():
        loop.exec()
    timer.stop()
    if not predicate():
        raise TimeoutError("the view did not update in time")


def settle(ms: int) -> None:
    """Let queued results and repaints land."""
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def train(panel: InspectPanel, host: WorkerHost, project: Project) -> None:
    failures: list[str] = []
    host.worker.trainingFailed.connect(lambda message, _hint: failures.append(message))
    panel.set_model_source(None)
    host.worker.start_training(project, None, panel.training_callbacks())
    wait(lambda: failures or (panel.snapshot is not None and not host.worker.is_training()))
    if failures:
        raise RuntimeError(f"training {project.name} failed: {failures[0]}")
    settle(300)  # let the last queued results land


def grab(panel: InspectPanel, tab: str, name: str) -> None:
    panel.show_tab(tab)
    settle(200)
    panel.grab().save(str(IMAGES / f"inspect-{name}.png"))
    print("wrote", IMAGES / f"inspect-{name}.png")


def draw_seven(panel: InspectPanel) -> None:
    """A '7' drawn with the mouse: a bar across the top, then a slanted stroke down."""
    pad = panel.try_panel.pad
    rect = pad.picture_rect()

    def at(u: float, v: float) -> QPoint:
        return QPointF(rect.left() + u * rect.width(), rect.top() + v * rect.height()).toPoint()

    stroke = [at(0.2, 0.18), at(0.5, 0.17), at(0.8, 0.18), at(0.68, 0.45), at(0.55, 0.7), at(0.45, 0.88)]
    QTest.mousePress(pad, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, stroke[0])
    for point in stroke[1:]:
        QTest.mouseMove(pad, point)
        settle(30)
    QTest.mouseRelease(pad, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, stroke[-1])


def mnist_like(root: Path) -> Path:
    """The bundled digits as MNIST files (28x28, the digit in the central 20x20 box like MNIST's) in ``root``.

    torchvision's MNIST reader then loads them like the real thing, so the CNN and the 28x28
    drawing pad can be shown offline.
    """
    from sklearn.datasets import load_digits

    bunch = load_digits()
    pictures = np.zeros((len(bunch.images), 28, 28), np.uint8)
    for i, pixels in enumerate(bunch.images):
        small = Image.fromarray((pixels / 16 * 255).astype(np.uint8)).resize((20, 20), Image.Resampling.BILINEAR)
        pictures[i, 4:24, 4:24] = np.asarray(small)
    labels = bunch.target.astype(np.uint8)
    raw = root / "MNIST" / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    split = 1400
    for prefix, rows in (("train", slice(0, split)), ("t10k", slice(split, None))):
        images, targets = pictures[rows], labels[rows]
        (raw / f"{prefix}-images-idx3-ubyte").write_bytes(struct.pack(">IIII", 0x803, len(images), 28, 28)
                                                          + images.tobytes())
        (raw / f"{prefix}-labels-idx1-ubyte").write_bytes(struct.pack(">II", 0x801, len(targets)) + targets.tobytes())
    return root


def cnn_project(root: Path) -> Project:
    layers = [LayerSpec("Conv2d", {"out_channels": 8, "kernel_size": 5, "padding": 2}), LayerSpec("ReLU"),
              LayerSpec("MaxPool2d", {"kernel_size": 2}),
              LayerSpec("Conv2d", {"out_channels": 16, "kernel_size": 5, "padding": 2}), LayerSpec("ReLU"),
              LayerSpec("MaxPool2d", {"kernel_size": 2}), LayerSpec("Flatten"),
              LayerSpec("Linear", {"out_features": 10})]
    return Project(name="Digits CNN (28x28)", model=ModelSpec(layers),
                   data=DataSpec("mnist", {"root": str(root)}, preprocessing="pixel_mean"),
                   optimizer=Choice("adam", {"lr": 0.002}),
                   training=TrainingSpec(epochs=6, batch_size=32, stats_every=0))


def moons_project() -> Project:
    layers = [LayerSpec("Linear", {"out_features": 16}), LayerSpec("Tanh"),
              LayerSpec("Linear", {"out_features": 16}), LayerSpec("Tanh"), LayerSpec("Linear", {"out_features": 2})]
    return Project(name="Moons", model=ModelSpec(layers), data=DataSpec("moons", {"n_samples": 600, "noise": 0.2}),
                   optimizer=Choice("adam", {"lr": 0.02}),
                   training=TrainingSpec(epochs=40, batch_size=32, stats_every=0))


def sine_project() -> Project:
    layers = [LayerSpec("Linear", {"out_features": 32}), LayerSpec("Tanh"),
              LayerSpec("Linear", {"out_features": 32}), LayerSpec("Tanh"), LayerSpec("Linear", {"out_features": 1})]
    return Project(name="Sine", model=ModelSpec(layers), data=DataSpec("sine", {"n_samples": 500, "noise": 0.15}),
                   loss=Choice("mse"), optimizer=Choice("adam", {"lr": 0.01}),
                   training=TrainingSpec(epochs=60, batch_size=32, stats_every=0))


def main() -> None:
    app = create_app(["inspect-screenshots"])
    IMAGES.mkdir(parents=True, exist_ok=True)
    host = WorkerHost()
    panel = InspectPanel(host.worker, ScriptedDialogs())
    panel.resize(*SIZE)
    panel.show()
    try:
        digits = load_preset("digits-mlp")
        digits.training.epochs = 8
        train(panel, host, digits)
        confusion = panel.evaluation.confusion
        report = confusion.report
        mistakes = report.confusion - np.diag(np.diag(report.confusion))
        row, column = np.unravel_index(int(mistakes.argmax()), mistakes.shape)
        panel.show_tab("evaluation")
        settle(100)
        QTest.mouseClick(confusion, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                         confusion.cell_rect(int(row), int(column)).center())
        grab(panel, "evaluation", "evaluation")
        panel.show_tab("try")
        settle(200)
        draw_seven(panel)
        wait(lambda: panel.try_panel.prediction is not None and not panel.try_panel.job.busy)
        grab(panel, "try", "try")
        with tempfile.TemporaryDirectory() as tmp:
            train(panel, host, cnn_project(mnist_like(Path(tmp))))
            panel.show_tab("try")
            settle(200)
            draw_seven(panel)
            wait(lambda: panel.try_panel.prediction is not None and not panel.try_panel.job.busy)
            grab(panel, "try", "try-28")
            panel.show_tab("layers")
            panel.layers.request(3)
            wait(lambda: panel.layers.shown is not None)
            grab(panel, "layers", "layers")
        train(panel, host, moons_project())
        grab(panel, "boundary", "boundary")
        train(panel, host, sine_project())
        grab(panel, "boundary", "regression")
    finally:
        host.shutdown()
    app.quit()


if __name__ == "__main__":
    main()
