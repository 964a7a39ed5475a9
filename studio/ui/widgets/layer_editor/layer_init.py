"""The settings of a layer's own weight initialisation: its scheme's form, or the grid of typed values.

A row with its own ``init`` has its own ``init_params`` (``LayerSpec.init_params``): a form generated
from the scheme's ``Param``s (a constant's value, a gain), or for ``values`` the :class:`WeightGrid`,
sized by the shapes the row's weights have for the current data.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QVBoxLayout, QWidget

from studio.core.init import INITS
from studio.core.params import defaults
from studio.core.project import LayerSpec, ModelSpec
from studio.ui.widgets.param_form import ParamForm
from studio.ui.widgets.weight_grid import WeightGrid

Shapes = dict[str, tuple[int, ...]]


class LayerInitSettings(QWidget):
    """Emits ``changed(init_params)`` when the learner edits the shown layer's own init settings."""

    changed = Signal(dict)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("layerInitSettings")
        self.grid = WeightGrid()
        self.grid.changed.connect(self.changed)
        self._form: ParamForm | None = None
        self._scheme: str | None = None
        self._locked = False
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.addWidget(self.grid)
        self.grid.hide()
        self.hide()

    @property
    def form(self) -> ParamForm | None:
        return self._form

    def show_layer(self, layer: LayerSpec, network: ModelSpec, shapes: Shapes | None) -> None:
        """Show ``layer``'s own init settings (nothing when it uses the network's); emits nothing."""
        scheme = INITS.get(layer.init) if layer.init is not None and layer.init in INITS else None
        own = layer.init_params if isinstance(layer.init_params, dict) else {}
        self.setVisible(scheme is not None and (scheme.layer_only or bool(scheme.params)))
        self.grid.setVisible(scheme is not None and scheme.layer_only)
        if scheme is None:
            self._set_form(None, None)
            return
        if scheme.layer_only:
            self._set_form(None, None)
            self.grid.show_values(shapes, own)
            return
        shared = {k: v for k, v in network.init_params.items() if k in {p.name for p in scheme.params}}
        values = {**defaults(scheme.params), **shared, **own}
        if self._scheme != scheme.name or self._form is None:
            self._set_form(ParamForm(scheme.params, values, owner=scheme.label) if scheme.params else None,
                           scheme.name)
        else:
            self._form.set_values(values)

    def set_error(self, field: str | None, message: str) -> None:
        """A problem of the row's init settings (``layers[2].init_params.weight``) shows here."""
        name = field.rsplit(".", 1)[-1] if field else ""
        if self._form is not None:
            self._form.set_error(name or None, message)
        if not self.grid.isHidden() and message:
            self.grid.error.setText(message)
            self.grid.error.show()

    def set_locked(self, locked: bool) -> None:
        self._locked = locked
        self.grid.set_locked(locked)
        if self._form is not None:
            self._form.set_locked(locked)

    def _set_form(self, form: ParamForm | None, scheme: str | None) -> None:
        if self._form is not None:
            self._layout.removeWidget(self._form)
            self._form.hide()  # deletion is deferred; hide now so the old form never shows through
            self._form.deleteLater()
        self._form, self._scheme = form, scheme
        if form is not None:
            form.setObjectName("layerInitParams")
            form.changed.connect(self._form_edited)
            form.set_locked(self._locked)
            self._layout.addWidget(form)

    def _form_edited(self, _name: str, _value: Any) -> None:
        if self._form is not None:
            self.changed.emit(self._form.values())
