"""The evaluation of a classifier: per-class metrics, the confusion matrix and the gallery of a cell.

It shows :class:`Evaluation` records (numpy only) as they arrive, after every epoch while
training and once more at the end; choosing a cell fills the gallery with that cell's samples.
Export writes the metrics table and the matrix as CSV and the matrix as a PNG.
"""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from studio.core.inspect.evaluation import Evaluation
from studio.core.inspect.metrics import MetricsReport
from studio.core.inspect.reports import CONFUSION_PNG, write_evaluation
from studio.core.vocab import MessageKind
from studio.ui.dialogs import Dialogs, Message
from studio.ui.inspect.confusion_widget import ConfusionWidget, save_confusion_png
from studio.ui.inspect.gallery import GalleryView

COLUMNS = ("Class", "Precision", "Recall", "F1", "Support")


def split_name(split: str) -> str:
    return "validation" if split == "val" else "training"


def export_evaluation(folder: str | os.PathLike[str], report: MetricsReport) -> list[Path]:
    """``metrics.csv``, ``confusion.csv`` and ``confusion.png`` in ``folder``; returns the paths."""
    written = write_evaluation(folder, report)
    save_confusion_png(Path(folder) / CONFUSION_PNG, report)
    return [*written, Path(folder) / CONFUSION_PNG]


class MetricsTable(QTableWidget):
    """One row per class, then the macro and weighted averages and the accuracy."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(0, len(COLUMNS), parent)
        self.setObjectName("metricsTable")
        self.setAccessibleName("Precision, recall and F1 per class")
        self.setHorizontalHeaderLabels(COLUMNS)
        self.verticalHeader().setVisible(False)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for column in range(1, len(COLUMNS)):
            self.horizontalHeader().setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)

    def show_report(self, report: MetricsReport) -> None:
        rows = [(name, report.precision[i], report.recall[i], report.f1[i], report.support[i])
                for i, name in enumerate(report.class_names)]
        total = int(report.support.sum())
        rows += [(f"{label} average", *values, total) for label, values in report.averages().items()]
        rows.append(("accuracy", None, None, report.accuracy, total))
        self.setRowCount(len(rows))
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                text = value if isinstance(value, str) else "" if value is None else (
                    f"{int(value):,}" if c == 4 else f"{float(value):.3f}")
                item = QTableWidgetItem(text)
                if c:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.setItem(r, c, item)


class EvaluationView(QWidget):
    """Metrics table, confusion matrix and cell gallery of the latest evaluation."""

    exported = Signal(list)  # the paths written

    def __init__(self, dialogs: Dialogs, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("evaluationView")
        self.dialogs = dialogs
        self.evaluation: Evaluation | None = None
        self.summary = QLabel("No evaluation yet: train a classifier.")
        self.summary.setObjectName("evaluationSummary")
        self.summary.setAccessibleName("Evaluation summary")
        self.export_button = QPushButton("Export evaluation…")
        self.export_button.setObjectName("exportEvaluationButton")
        self.export_button.setAccessibleName("Export the evaluation (metrics CSV, confusion matrix CSV and PNG)")
        self.export_button.setEnabled(False)
        self.export_button.clicked.connect(self.choose_export)
        self.confusion = ConfusionWidget()
        self.table = MetricsTable()
        self.gallery_title = QLabel("Click a cell of the confusion matrix to see its samples here.")
        self.gallery_title.setObjectName("galleryTitle")
        self.gallery_title.setWordWrap(True)
        self.gallery = GalleryView()
        self.confusion.cellClicked.connect(self.show_cell)
        self._lay_out()

    def _lay_out(self) -> None:
        top = QHBoxLayout()
        top.addWidget(self.summary, 1)
        top.addWidget(self.export_button)
        upper = QSplitter(Qt.Orientation.Horizontal)
        upper.addWidget(self.confusion)
        upper.addWidget(self.table)
        upper.setStretchFactor(0, 3)
        upper.setStretchFactor(1, 2)
        lower = QWidget()
        lower_layout = QVBoxLayout(lower)
        lower_layout.setContentsMargins(0, 0, 0, 0)
        lower_layout.addWidget(self.gallery_title)
        lower_layout.addWidget(self.gallery)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(upper)
        split.addWidget(lower)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(split, 1)

    def clear(self) -> None:
        """Back to the empty state (a new run starts)."""
        self.evaluation = None
        self.confusion.set_report(None)
        self.table.setRowCount(0)
        self.gallery.clear()
        self.gallery_title.setText("Click a cell of the confusion matrix to see its samples here.")
        self.summary.setText("Waiting for the first epoch…")
        self.export_button.setEnabled(False)

    def set_evaluation(self, evaluation: Evaluation) -> None:
        """Show a new evaluation; the chosen cell's gallery follows it."""
        self.evaluation = evaluation
        report = evaluation.report
        self.summary.setText(
            f"Epoch {evaluation.epoch} · {split_name(evaluation.split)} split · {report.total:,} samples · "
            f"accuracy {report.accuracy:.1%}")
        self.confusion.set_report(report)
        self.table.show_report(report)
        self.export_button.setEnabled(True)
        if self.confusion.selected is not None:
            self.show_cell(*self.confusion.selected)

    def show_cell(self, true_class: int, predicted_class: int) -> None:
        if self.evaluation is None:
            return
        items = self.gallery.show_cell(self.evaluation, true_class, predicted_class)
        names = self.evaluation.class_names
        count = int(self.evaluation.report.confusion[true_class, predicted_class])
        shown = f", the {len(items)} most confident shown" if len(items) < count else ""
        self.gallery_title.setText(
            f"True {names[true_class]} predicted as {names[predicted_class]}: {count} sample"
            f"{'s' if count != 1 else ''}, most confident first{shown}.")

    def choose_export(self) -> None:
        if self.evaluation is None:
            return
        folder = self.dialogs.folder("Export the evaluation into a folder")
        if not folder:
            return
        try:
            paths = export_evaluation(folder, self.evaluation.report)
        except OSError as exc:
            self.dialogs.message(Message(MessageKind.ERROR, "Export failed", f"Could not write the files: {exc}"))
            return
        self.summary.setText(f"Wrote {', '.join(p.name for p in paths)} to {folder}")
        self.exported.emit(paths)
