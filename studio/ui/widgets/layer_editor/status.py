"""The line under the stack: the parameter total and whether the network is ready to train (or why not)."""

from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout, QWidget

from studio.ui.widgets.layer_editor.rows import StackState

_OK_STYLE = "color: #2e7d32;"
_ERROR_STYLE = "color: #c62828; font-weight: 600;"


class StatusBar(QWidget):
    """``totalParamsLabel`` and ``stackStatus`` (the reason Train is disabled, in red)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.total_label = QLabel()
        self.total_label.setObjectName("totalParamsLabel")
        self.total_label.setAccessibleName("Total parameters")
        self.verdict = QLabel()
        self.verdict.setObjectName("stackStatus")
        self.verdict.setAccessibleName("Network check")
        self.verdict.setWordWrap(True)
        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addStretch(1)
        top.addWidget(self.total_label)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.verdict)

    def show_state(self, state: StackState, has_data: bool) -> None:
        self.total_label.setText(total_text(state, has_data))
        if state.ok:
            self.verdict.setText("✓ The network fits the data: ready to train.")
            self.verdict.setStyleSheet(_OK_STYLE)
        else:
            self.verdict.setText(f"⚠ {state.reason}")
            self.verdict.setStyleSheet(_ERROR_STYLE if has_data or state.error_path is not None else "")
        self.verdict.setAccessibleDescription(self.verdict.text())


def total_text(state: StackState, has_data: bool) -> str:
    """``"Total: 17,226 parameters"``, plus the trainable part when some layers are frozen."""
    if not has_data:
        return f"{sum(1 for _ in state.all_rows())} layers"
    if any(row.params is None for row in state.rows):
        return "Total: unknown until the marked layer is fixed"
    text = f"Total: {state.total_params:,} parameters"
    if state.trainable_params != state.total_params:
        text += f" ({state.trainable_params:,} trainable)"
    return text
