"""How long one edit takes in the layer editor with a deep network of blocks (issue 12: under 100 ms for a
100-block network, so typing in the properties form stays fluid).

An edit is a spin-box change in the properties form of a row inside a block: the undo command, the shape
check (``check_model`` on the meta device), the tree model refilled, folds and selection restored and the
properties form shown again. Prints the median and the slowest of ``--repeats`` edits, and the share of the
shape check alone. Offscreen; run from the repository root: ``python benchmarks/editor_refresh.py``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtGui import QUndoStack
from PySide6.QtWidgets import QApplication

from studio.core.project import LayerSpec, ModelSpec
from studio.ui.widgets.layer_editor import LayerEditor
from studio.ui.widgets.layer_editor.rows import analyse

CASES = {
    # name -> (input shape, one block, head)
    "mlp": ((64,), lambda: LayerSpec("Residual", layers=[LayerSpec("Linear", {"out_features": 64}),
                                                          LayerSpec("ReLU")]),
            [LayerSpec("Linear", {"out_features": 10})]),
    "cnn": ((16, 16, 16), lambda: LayerSpec("Residual", layers=[
        LayerSpec("Conv2d", {"out_channels": 16, "kernel_size": 3, "padding": 1}), LayerSpec("BatchNorm2d"),
        LayerSpec("ReLU")]), [LayerSpec("Flatten"), LayerSpec("Linear", {"out_features": 10})]),
}


def measure(editor: LayerEditor, app: QApplication, repeats: int) -> tuple[list[float], list[float]]:
    """Seconds per edit of the first block's first row (alternating between two values): wall clock, and the
    process's CPU time (what the edit costs on a machine of its own; the wall clock waits for other users)."""
    editor.stack_view.select_row((0, 0))
    field_name = "out_features" if "out_features" in editor.properties.form.values() else "out_channels"
    times, cpu = [], []
    for i in range(repeats):
        field = editor.properties.form.field(field_name)
        start, start_cpu = time.perf_counter(), time.process_time()
        field.setValue(64 if i % 2 else 16)
        app.processEvents()
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return times, cpu


def ms(seconds: list[float]) -> str:
    return f"{statistics.median(seconds) * 1e3:.1f} ms"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--blocks", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    app = QApplication.instance() or QApplication([])
    print(f"load: {os.getloadavg()[0]:.1f} (timings are noisy while others use the machine)")
    for name, (shape, block, head) in CASES.items():
        editor = LayerEditor(QUndoStack())
        editor.resize(1280, 700)
        editor.show()
        spec = ModelSpec([block() for _ in range(args.blocks)] + head)
        editor.set_input(shape, 10, name)
        editor.set_model(spec)
        rows = sum(1 for _ in editor.state().all_rows())
        times, cpu = measure(editor, app, args.repeats)
        model = editor.model()
        start, start_cpu = time.perf_counter(), time.process_time()
        for _ in range(args.repeats):
            analyse(model, shape, 10)
        check = (time.perf_counter() - start) / args.repeats
        check_cpu = (time.process_time() - start_cpu) / args.repeats
        print(f"{name}: {args.blocks} blocks, {rows} rows; an edit: median {ms(times)} wall ({ms(cpu)} CPU), "
              f"slowest {max(times) * 1e3:.1f} ms; the shape check alone {check * 1e3:.1f} ms wall "
              f"({check_cpu * 1e3:.1f} ms CPU)")
        editor.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
