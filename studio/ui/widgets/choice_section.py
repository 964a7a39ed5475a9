"""A registry choice with its parameters: a combo box of entries and a ParamForm for the chosen one.

Used for the dataset, optimizer, loss and schedule. The values typed for each entry are kept, so
switching from Adam to SGD and back restores the Adam settings instead of the defaults.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QComboBox, QLabel, QVBoxLayout, QWidget

from studio.core.registry import Registry
from studio.ui.widgets.param_form import ParamForm


class ChoiceSection(QWidget):
    """Combo box + description + generated form; emits ``edited`` on every user change."""

    edited = Signal()

    def __init__(
        self,
        registry: Registry[Any],
        combo_name: str,
        accessible: str,
        field_names: Mapping[str, str] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.registry = registry
        self.accessible = accessible
        self.field_names = dict(field_names or {})  # parameter -> stable objectName (automation)
        self._memory: dict[str, dict[str, Any]] = {}
        self._locked = False
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.combo = QComboBox()
        self.combo.setObjectName(combo_name)
        self.combo.setAccessibleName(accessible)
        layout.addWidget(self.combo)
        self.description = QLabel()
        self.description.setWordWrap(True)
        self.description.setProperty("role", "hint")
        layout.addWidget(self.description)
        self.form = ParamForm([], {}, self)
        layout.addWidget(self.form)
        self.set_filter(lambda _entry: True)
        self.combo.currentIndexChanged.connect(self._chosen)

    # --- public API ----------------------------------------------------------------------------
    def name(self) -> str:
        return self.combo.currentData()

    def values(self) -> dict[str, Any]:
        return self.form.values()

    def set_choice(self, name: str, values: Mapping[str, Any]) -> None:
        """Show entry ``name`` with ``values`` without emitting ``edited``."""
        self._memory[name] = dict(values)
        index = self.combo.findData(name)
        if index < 0:  # an entry the filter hides (e.g. a regression loss) is still shown when chosen
            entry = self.registry.get(name)
            self.combo.addItem(entry.label, name)
            index = self.combo.count() - 1
        self.combo.blockSignals(True)
        self.combo.setCurrentIndex(index)
        self.combo.blockSignals(False)
        self._rebuild(name)

    def set_filter(self, keep: Callable[[Any], bool]) -> None:
        """List only the registry entries for which ``keep(entry)`` is true (the current one stays)."""
        current = self.combo.currentData()
        self.combo.blockSignals(True)
        self.combo.clear()
        for name, entry in self.registry.items():
            if keep(entry) or name == current:
                self.combo.addItem(entry.label, name)
                self.combo.setItemData(self.combo.count() - 1, entry.description, Qt.ItemDataRole.ToolTipRole)
        if current is not None:
            self.combo.setCurrentIndex(max(0, self.combo.findData(current)))
        self.combo.blockSignals(False)

    def set_locked(self, locked: bool) -> None:
        self._locked = locked
        self.combo.setEnabled(not locked)
        self.form.set_locked(locked)

    def field(self, param: str) -> QWidget:
        return self.form.field(param)

    # --- behaviour -----------------------------------------------------------------------------
    def _chosen(self) -> None:
        self._rebuild(self.name())
        self.edited.emit()

    def _rebuild(self, name: str) -> None:
        entry = self.registry.get(name)
        self.description.setText(entry.description)
        self.description.setVisible(bool(entry.description))
        old = self.form
        self.form = ParamForm(entry.params, self._memory.get(name, {}), self, owner=entry.label)
        self.form.changed.connect(lambda *_: self._remember())
        layout = self.layout()
        assert layout is not None, "built in __init__"
        layout.replaceWidget(old, self.form)
        old.setParent(None)  # out of the widget tree now, so findChild never sees its stale fields
        old.deleteLater()
        for param, object_name in self.field_names.items():
            if any(p.name == param for p in entry.params):
                field = self.form.field(param)
                field.setObjectName(object_name)
        self.form.set_locked(self._locked)
        self.form.setVisible(bool(entry.params))

    def _remember(self) -> None:
        self._memory[self.name()] = self.form.values()
        self.edited.emit()


