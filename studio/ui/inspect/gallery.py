"""The examples of one confusion cell as cards: picture (or feature values), predicted and true
class, and the top-3 probabilities; most confident first (the order comes from the core)."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QIcon, QPixmap
from PySide6.QtWidgets import QListView, QListWidget, QListWidgetItem, QWidget

from studio.core.inspect.evaluation import Evaluation
from studio.core.inspect.gallery import GalleryItem, cell_examples
from studio.ui.widgets.data_preview import to_qimage

ICON = 72
LIMIT = 200  # cards shown for one cell: enough to see the pattern, few enough to build instantly


def card_text(item: GalleryItem, names: tuple[str, ...]) -> str:
    """``pred 8 · true 3`` then the top-3 probabilities, e.g. ``8 91% · 3 6% · 5 1%``."""
    top = " · ".join(f"{names[c]} {p:.0%}" for c, p in item.top)
    return f"pred {names[item.predicted]} · true {names[item.true]}\n{top}"


def picture_icon(picture: np.ndarray) -> QIcon:
    """A sharp (nearest-neighbour) enlargement of a uint8 picture."""
    image = to_qimage(picture.astype(np.float32) / 255.0)
    return QIcon(QPixmap.fromImage(image.scaled(ICON, ICON, Qt.AspectRatioMode.KeepAspectRatio,
                                                Qt.TransformationMode.FastTransformation)))


class GalleryView(QListWidget):
    """Cards of the samples behind one confusion-matrix cell."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("galleryView")
        self.setAccessibleName("Samples of the chosen confusion-matrix cell, most confident first")
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setMovement(QListView.Movement.Static)
        self.setWrapping(True)
        self.setWordWrap(True)
        self.setUniformItemSizes(True)
        self.setIconSize(QSize(ICON, ICON))
        self.setGridSize(QSize(150, ICON + 54))
        self.setSpacing(4)
        self.examples: list[GalleryItem] = []

    def show_cell(self, evaluation: Evaluation, true_class: int, predicted_class: int) -> list[GalleryItem]:
        """Fill the cards for cell (``true_class``, ``predicted_class``); returns what is shown."""
        self.clear()
        self.examples = cell_examples(evaluation, true_class, predicted_class, LIMIT)
        names, samples = evaluation.class_names, evaluation.samples
        for item in self.examples:
            text = card_text(item, names)
            card = QListWidgetItem(text)
            if samples.images is not None:
                card.setIcon(picture_icon(samples.images[item.index]))
            elif samples.features is not None:
                values = ", ".join(f"{v:.2f}" for v in samples.features[item.index][:4])
                card.setText(f"{text}\nx = ({values})")
            card.setToolTip(f"Sample {item.index} of the {'validation' if evaluation.split == 'val' else 'training'}"
                            f" split\n{text}")
            card.setData(Qt.ItemDataRole.UserRole, item.index)
            self.addItem(card)
        return self.examples
