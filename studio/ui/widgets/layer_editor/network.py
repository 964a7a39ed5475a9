"""The network-wide weight and bias initialisation: scheme combo and its parameters, bias combo and its own."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QComboBox, QFormLayout, QGroupBox, QLabel, QVBoxLayout, QWidget

from studio.core.init import BIAS_INITS, INITS
from studio.core.params import defaults
from studio.core.project import ModelSpec
from studio.ui.widgets.param_form import ParamForm


class NetworkInitPanel(QGroupBox):
    """Emits ``changed(updates)``: a dict of ModelSpec fields (``init``, ``init_params``, ``bias_init``,
    ``bias_init_params``)."""

    changed = Signal(dict)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Initialisation (all layers)", parent)
        self.setObjectName("networkInit")
        network_schemes = [(name, scheme) for name, scheme in INITS.items() if not scheme.layer_only]
        self.init_combo = _combo("networkInitCombo", "Network weight initialisation", network_schemes)
        self.bias_combo = _combo("biasInitCombo", "Network bias initialisation", BIAS_INITS.items())
        self._description = QLabel()
        self._description.setWordWrap(True)
        self._description.setProperty("role", "hint")
        self._form = ParamForm((), owner="initialisation")
        self._scheme: str | None = None
        layout = QVBoxLayout(self)
        form = QFormLayout()
        form.addRow("weights", self.init_combo)
        form.addRow("biases", self.bias_combo)
        layout.addLayout(form)
        layout.addWidget(self._description)
        self._holder = QVBoxLayout()
        self._holder.addWidget(self._form)
        layout.addLayout(self._holder)
        self._bias_form = ParamForm((), owner="bias initialisation")
        self._bias_scheme: str | None = None
        self._bias_holder = QVBoxLayout()
        self._bias_holder.addWidget(self._bias_form)
        layout.addLayout(self._bias_holder)
        self._updating = False
        self.init_combo.currentIndexChanged.connect(self._init_picked)
        self.bias_combo.currentIndexChanged.connect(self._bias_picked)

    @property
    def bias_form(self) -> ParamForm:
        """The bias scheme's settings (a constant's value)."""
        return self._bias_form

    def show_spec(self, spec: ModelSpec) -> None:
        """Show the spec's initialisation without emitting ``changed``."""
        self._updating = True
        self.init_combo.setCurrentIndex(max(self.init_combo.findData(spec.init), 0))
        self.bias_combo.setCurrentIndex(max(self.bias_combo.findData(spec.bias_init), 0))
        self._updating = False
        if spec.init in INITS:
            scheme = INITS.get(spec.init)
            self._description.setText(scheme.description)
            values = {**defaults(scheme.params), **spec.init_params}
            if self._scheme != spec.init:
                self._replace_form(ParamForm(scheme.params, values, owner=scheme.label))
                self._scheme = spec.init
            else:
                self._form.set_values(values)
        self._show_bias(spec)

    def _show_bias(self, spec: ModelSpec) -> None:
        """The bias scheme's settings (a constant's value), when it has any."""
        if spec.bias_init not in BIAS_INITS:
            return
        bias = BIAS_INITS.get(spec.bias_init)
        values = {**defaults(bias.params), **spec.bias_init_params}
        if self._bias_scheme == spec.bias_init:
            self._bias_form.set_values(values)
            return
        self._bias_holder.removeWidget(self._bias_form)
        self._bias_form.hide()
        self._bias_form.deleteLater()
        self._bias_form = ParamForm(bias.params, values, owner=f"{bias.label} bias")
        self._bias_form.setObjectName("biasInitParams")
        self._bias_form.setVisible(bool(bias.params))
        self._bias_form.changed.connect(
            lambda *_: self.changed.emit({"bias_init_params": self._bias_form.values()}))
        self._bias_form.set_locked(not self.bias_combo.isEnabled())
        self._bias_holder.addWidget(self._bias_form)
        self._bias_scheme = spec.bias_init

    def set_error(self, field: str | None, message: str) -> None:
        """Mark an ``init_params.<name>`` (``bias_init_params.<name>``) problem on its form; others clear them."""
        for prefix, form in (("init_params.", self._form), ("bias_init_params.", self._bias_form)):
            mine = field is not None and field.startswith(prefix)
            form.set_error(field if mine else None, message if mine else "")

    def set_locked(self, locked: bool) -> None:
        self.init_combo.setEnabled(not locked)
        self.bias_combo.setEnabled(not locked)
        self._form.set_locked(locked)
        self._bias_form.set_locked(locked)

    def _replace_form(self, form: ParamForm) -> None:
        self._holder.removeWidget(self._form)
        self._form.hide()  # deletion is deferred; hide now so the old form never shows through
        self._form.deleteLater()
        self._form = form
        form.setObjectName("networkInitParams")
        form.setVisible(bool(form.params()))
        form.changed.connect(self._param_edited)
        form.set_locked(not self.init_combo.isEnabled())
        self._holder.addWidget(form)

    def _init_picked(self, _index: int) -> None:
        if self._updating:
            return
        name = self.init_combo.currentData()
        # The old scheme's parameters mean nothing to the new one; start from the new one's defaults.
        params = defaults(INITS.get(name).params)
        self.changed.emit({"init": name, "init_params": params})

    def _bias_picked(self, _index: int) -> None:
        if not self._updating:
            name = self.bias_combo.currentData()
            self.changed.emit({"bias_init": name, "bias_init_params": defaults(BIAS_INITS.get(name).params)})

    def _param_edited(self, _name: str, _value: Any) -> None:
        self.changed.emit({"init_params": self._form.values()})


def _combo(object_name: str, accessible: str, entries: list[tuple[str, Any]]) -> QComboBox:
    combo = QComboBox()
    combo.setObjectName(object_name)
    combo.setAccessibleName(accessible)
    for name, entry in entries:
        combo.addItem(entry.label, name)
        combo.setItemData(combo.count() - 1, entry.description, Qt.ItemDataRole.ToolTipRole)
    return combo
