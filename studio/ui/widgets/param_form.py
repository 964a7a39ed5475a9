"""A form generated from a sequence of :class:`~studio.core.params.Param`.

The same ``Param`` that validates a setting in the core describes its editor here: ranges become
spin-box limits, choices a combo box, help text the tooltip and accessible description. The form
holds no state of its own beyond the widgets; callers listen to ``changed`` and push values back
with ``set_values`` (which is silent, so a model -> view refresh never loops back as an edit).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QCheckBox, QFormLayout, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from studio.core.params import Param
from studio.ui.widgets.param_editors import EDITORS, Editor

_ERROR_BORDER = "border: 2px solid #d32f2f; border-radius: 3px;"
_ERROR_TEXT = "color: #c62828;"


class _Row:
    """The widgets of one parameter: its editor, the optional on/off box and the error label."""

    def __init__(self, param: Param, editor: Editor, enabled: QCheckBox | None, error: QLabel) -> None:
        self.param = param
        self.editor = editor
        self.enabled = enabled
        self.error = error
        self.last_value: Any = None  # what an optional parameter returns to when switched back on

    def value(self) -> Any:
        if self.enabled is not None and not self.enabled.isChecked():
            return None
        return self.editor.get()


class ParamForm(QWidget):
    """Edits a dict of parameter values; emits ``changed(name, value)`` on each user edit."""

    changed = Signal(str, object)

    def __init__(
        self,
        params: Sequence[Param],
        values: Mapping[str, Any] | None = None,
        parent: QWidget | None = None,
        owner: str = "",
    ) -> None:
        super().__init__(parent)
        self.owner = owner
        self._rows: dict[str, _Row] = {}
        self._updating = False
        self._locked = False
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self._form = QFormLayout()
        self._form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        layout.addLayout(self._form)
        self._general_error = _error_label("paramFormError")
        layout.addWidget(self._general_error)
        for param in params:
            self._add_row(param)
        self.set_values({p.name: p.default for p in params})
        if values:
            self.set_values(values)

    # -- public API -------------------------------------------------------------------------

    def values(self) -> dict[str, Any]:
        """The current value of every parameter (None for an optional one that is off)."""
        return {name: row.value() for name, row in self._rows.items()}

    def set_values(self, values: Mapping[str, Any]) -> None:
        """Show ``values`` (names this form does not know are ignored) without emitting ``changed``."""
        self._updating = True
        try:
            for name, value in values.items():
                if name in self._rows:
                    self._show(self._rows[name], value)
        finally:
            self._updating = False

    def set_error(self, field: str | None, message: str = "") -> None:
        """Mark ``field`` red with ``message``; ``None`` (or an empty message) clears the marks.

        The form shows one error at a time, like the core's validation that stops at the first.
        A field the form does not know (e.g. ``layers[2]``) shows the message under the form.
        """
        self._clear_errors()
        if field is None or not message:
            return
        row = self._rows.get(field) or self._rows.get(field.rsplit(".", 1)[-1])
        if row is None:
            self._general_error.setText(message)
            self._general_error.show()
            return
        row.editor.field.setStyleSheet(_ERROR_BORDER)
        row.error.setText(message)
        row.error.show()

    def error(self) -> str:
        """The message currently shown, or an empty string."""
        texts = [row.error.text() for row in self._rows.values() if not row.error.isHidden()]
        if not self._general_error.isHidden():
            texts.append(self._general_error.text())
        return texts[0] if texts else ""

    def set_locked(self, locked: bool) -> None:
        """Make every editor read-only (e.g. while training runs)."""
        self._locked = locked
        for row in self._rows.values():
            self._sync_enabled(row)

    def field(self, name: str) -> QWidget:
        """The editor widget of parameter ``name`` (objectName ``param_<name>``)."""
        return self._rows[name].editor.field

    def params(self) -> list[Param]:
        return [row.param for row in self._rows.values()]

    # -- construction -----------------------------------------------------------------------

    def _add_row(self, param: Param) -> None:
        editor = EDITORS[param.kind](param)
        _describe(editor.field, param, f"param_{param.name}")
        container = QWidget()
        column = QVBoxLayout(container)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(2)
        line = QHBoxLayout()
        line.setContentsMargins(0, 0, 0, 0)
        enabled = self._optional_box(param) if param.optional else None
        if enabled is not None:
            line.addWidget(enabled)
        line.addWidget(editor.widget, 1)
        column.addLayout(line)
        error = _error_label(f"param_{param.name}_error")
        column.addWidget(error)
        label = QLabel(param.title)
        label.setToolTip(param.help)
        label.setBuddy(editor.field)
        self._form.addRow(label, container)
        row = _Row(param, editor, enabled, error)
        self._rows[param.name] = row
        editor.on_change(lambda: self._edited(row))

    def _optional_box(self, param: Param) -> QCheckBox:
        box = QCheckBox()
        box.setObjectName(f"param_{param.name}_enabled")
        box.setAccessibleName(f"Use {param.title}")
        box.setToolTip(f"Tick to set {param.title}; unticked means none.")
        box.toggled.connect(lambda _on: self._toggled(param.name))
        return box

    # -- behaviour --------------------------------------------------------------------------

    def _show(self, row: _Row, value: Any) -> None:
        if row.enabled is not None:
            row.enabled.setChecked(value is not None)
        if value is not None:
            row.editor.set(value)
            row.last_value = value
        elif row.last_value is None:
            row.last_value = row.editor.fallback()
        self._sync_enabled(row)

    def _toggled(self, name: str) -> None:
        row = self._rows[name]
        self._sync_enabled(row)
        if row.enabled is not None and row.enabled.isChecked() and row.last_value is not None:
            silent, self._updating = self._updating, True
            row.editor.set(row.last_value)
            self._updating = silent
        self._edited(row)

    def _edited(self, row: _Row) -> None:
        value = row.value()
        if value is not None:
            row.last_value = value
        if not self._updating:
            self.changed.emit(row.param.name, value)

    def _sync_enabled(self, row: _Row) -> None:
        on = row.enabled is None or row.enabled.isChecked()
        row.editor.widget.setEnabled(on and not self._locked)
        if row.enabled is not None:
            row.enabled.setEnabled(not self._locked)

    def _clear_errors(self) -> None:
        for row in self._rows.values():
            row.editor.field.setStyleSheet("")
            row.error.hide()
            row.error.clear()
        self._general_error.hide()
        self._general_error.clear()


def _describe(widget: QWidget, param: Param, object_name: str) -> None:
    """Name a widget for tests and screen readers; the help text doubles as tooltip."""
    widget.setObjectName(object_name)
    widget.setAccessibleName(param.title)
    widget.setAccessibleDescription(param.help)
    widget.setToolTip(param.help)


def _error_label(object_name: str) -> QLabel:
    label = QLabel()
    label.setObjectName(object_name)
    label.setStyleSheet(_ERROR_TEXT)
    label.setWordWrap(True)
    label.hide()
    return label
