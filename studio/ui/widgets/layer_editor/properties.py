"""The properties panel: the settings of the selected layer, generated from the layer registry.

It shows the type's description, a :class:`ParamForm` of the type's parameters, the layer's own
weight initialisation (or the network's) with its settings (typed starting values in a grid) and
the fine-tuning settings (frozen, learning-rate factor). It edits nothing itself: every change is a
signal the editor turns into an undo command.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QComboBox, QFormLayout, QFrame, QLabel, QVBoxLayout, QWidget

from studio.core.init import INITS
from studio.core.layers import LAYERS, row_name
from studio.core.params import Param, defaults
from studio.core.project import LayerSpec, ModelSpec
from studio.core.tree import Path
from studio.ui.widgets.layer_editor.layer_init import LayerInitSettings, Shapes
from studio.ui.widgets.param_form import ParamForm

# The fine-tuning settings are LayerSpec fields, described as Params so the same form shows them.
FINE_TUNING = (
    Param("frozen", "bool", False, "Keep this layer's weights fixed while the rest of the network trains."),
    Param(
        "lr_mult",
        "float",
        1.0,
        "Multiplies the optimizer's learning rate for this layer (1 = unchanged).",
        min=0.0,
        max=100.0,
        label="learning-rate ×",
    ),
)
NONE_SELECTED = "Select a layer to see its settings."
SEVERAL = ("{} layers selected. Wrap puts neighbouring layers into a Residual block; right-click for Parallel "
           "or Repeat.")
NETWORK_INIT = ""  # the combo's data for "use the network's initialisation" (LayerSpec.init None)


class LayerProperties(QWidget):
    """Settings of one layer; ``show_layer(path, spec, network)`` fills it, the signals report user edits."""

    paramChanged = Signal(str, object)  # parameter name, value
    fieldChanged = Signal(str, object)  # LayerSpec field ("init", "init_params", "frozen", "lr_mult"), value

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("layerProperties")
        self.setAccessibleName("Layer properties")
        self._type: str | None = None
        self._locked = False
        outer = QVBoxLayout(self)
        outer.setContentsMargins(8, 4, 4, 4)
        self._details = QWidget()
        layout = QVBoxLayout(self._details)
        layout.setContentsMargins(0, 0, 0, 0)
        self._title = QLabel()
        self._title.setObjectName("layerPropertiesTitle")
        self._title.setAccessibleName("Selected row")
        font = self._title.font()
        font.setPointSizeF(font.pointSizeF() * 1.2)
        font.setBold(True)
        self._title.setFont(font)
        self._description = _muted(QLabel())
        self._description.setWordWrap(True)
        layout.addWidget(self._title)
        layout.addWidget(self._description)
        self._form_holder = QVBoxLayout()
        layout.addLayout(self._form_holder)
        self._form: ParamForm | None = None
        self._no_params = _muted(QLabel("This layer has no settings."))
        layout.addWidget(self._no_params)
        self._no_weights = _muted(QLabel("No weights: nothing to initialise, freeze or tune."))
        self._no_weights.setObjectName("layerNoWeights")
        self._no_weights.setWordWrap(True)
        layout.addWidget(self._no_weights)
        # Initialisation and fine-tuning act on weights: a layer without any (ReLU, Flatten) hides them.
        self.weights_box = QWidget()
        self.weights_box.setObjectName("layerWeightSettings")
        self.weights_box.setAccessibleName("Layer weight settings")
        weights = QVBoxLayout(self.weights_box)
        weights.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.weights_box)
        weights.addWidget(_separator())
        self.init_combo = QComboBox()
        self.init_combo.setObjectName("layerInitCombo")
        self.init_combo.setAccessibleName("Layer weight initialisation")
        self.init_combo.setToolTip("How this layer's weights start; by default the network's choice below the stack.")
        self.init_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.init_combo.setMinimumContentsLength(8)  # long scheme names elide instead of widening the panel
        init_row = QFormLayout()
        init_row.addRow("initialisation", self.init_combo)
        weights.addLayout(init_row)
        self.init_settings = LayerInitSettings()
        weights.addWidget(self.init_settings)
        self.fine_tuning = ParamForm(FINE_TUNING, owner="layer")
        self.fine_tuning.setObjectName("layerFineTuning")
        weights.addWidget(self.fine_tuning)
        outer.addWidget(self._details)
        outer.addStretch(1)
        self._placeholder = _muted(QLabel(NONE_SELECTED))
        self._placeholder.setWordWrap(True)
        self._placeholder.setObjectName("layerPropertiesHint")
        self._placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        outer.addWidget(self._placeholder)
        outer.addStretch(1)
        self.init_combo.currentIndexChanged.connect(self._init_picked)
        self.init_settings.changed.connect(lambda values: self.fieldChanged.emit("init_params", values))
        self.fine_tuning.changed.connect(self.fieldChanged)
        self._updating = False
        self.show_layer(None, None, ModelSpec(), selected=0)

    @property
    def form(self) -> ParamForm | None:
        """The parameter form of the shown layer (None when nothing is selected)."""
        return self._form

    def show_layer(self, path: Path | None, spec: LayerSpec | None, network: ModelSpec,
                   shapes: Shapes | None = None, learnable: bool = True, selected: int = 1) -> None:
        """Show ``spec`` (the row at ``path`` of ``network``), or a placeholder when ``spec`` is None (saying
        what to do with ``selected`` rows); emits nothing.

        ``shapes`` are the row's weight and bias shapes for the current data (sizing the typed-values grid);
        ``learnable`` False (a layer without weights) hides initialisation, frozen and learning-rate factor.
        """
        has_layer = spec is not None and spec.type in LAYERS
        self._details.setVisible(has_layer)
        self._placeholder.setVisible(not has_layer)
        self._placeholder.setText(SEVERAL.format(selected) if selected > 1 else NONE_SELECTED)
        if spec is None or not has_layer:
            self._set_form(None)
            return
        layer_type = LAYERS.get(spec.type)
        self._title.setText(row_name(path, spec.type) if path else spec.type)  # as messages name it
        self._description.setText(layer_type.description)
        # Project files may list only the non-default settings; show the defaults for the rest.
        values = {**defaults(layer_type.params), **spec.params}
        if self._type != spec.type or self._form is None:
            self._set_form(ParamForm(layer_type.params, values, owner=spec.type))
            self._type = spec.type
        else:
            self._form.set_values(values)
        self._no_params.setVisible(not layer_type.params)
        self.weights_box.setVisible(learnable)
        self._no_weights.setVisible(not learnable)
        self._fill_inits(network.init, spec.init, block=layer_type.block is not None)
        self.init_settings.show_layer(spec, network, shapes)
        self.fine_tuning.set_values({"frozen": spec.frozen, "lr_mult": spec.lr_mult})
        self.set_error(None, "")

    def set_error(self, field: str | None, message: str) -> None:
        """Show the shown layer's problem: on its parameter (``field`` like ``layers[2].kernel_size``) or below."""
        if self._form is None:
            return
        if not message:
            self._form.set_error(None)
            self.init_settings.set_error(None, "")
            return
        if field is not None and ".init_params" in field:
            self.init_settings.set_error(field, message)
            return
        name = field.rsplit(".", 1)[-1] if field else ""
        # A problem that is not one setting's (a shape mismatch) shows under the form.
        self._form.set_error(name if name in {p.name for p in self._form.params()} else "", message)

    def set_locked(self, locked: bool) -> None:
        self._locked = locked
        if self._form is not None:
            self._form.set_locked(locked)
        self.fine_tuning.set_locked(locked)
        self.init_combo.setEnabled(not locked)
        self.init_settings.set_locked(locked)

    def _set_form(self, form: ParamForm | None) -> None:
        if self._form is not None:
            self._form_holder.removeWidget(self._form)
            self._form.hide()  # deletion is deferred; hide now so the old form never shows through
            self._form.deleteLater()
        self._form = form
        self._type = None
        if form is not None:
            form.setObjectName("layerParamForm")
            form.changed.connect(self.paramChanged)
            form.set_locked(self._locked)
            self._form_holder.addWidget(form)

    def _fill_inits(self, network_init: str, current: str | None, block: bool) -> None:
        """The schemes a row may pick; a block's is what its rows start from, so typed values (one layer's own
        numbers) are not offered there."""
        self._updating = True
        self.init_combo.clear()
        network_label = INITS.get(network_init).label if network_init in INITS else network_init
        self.init_combo.addItem(f"Network's ({network_label})", NETWORK_INIT)
        for name, scheme in INITS.items():
            if block and scheme.layer_only:
                continue
            self.init_combo.addItem(scheme.label, name)
            self.init_combo.setItemData(self.init_combo.count() - 1, scheme.description, Qt.ItemDataRole.ToolTipRole)
        index = self.init_combo.findData(current if current is not None else NETWORK_INIT)
        self.init_combo.setCurrentIndex(max(index, 0))
        self._updating = False

    def _init_picked(self, _index: int) -> None:
        if self._updating:
            return
        data: Any = self.init_combo.currentData()
        self.fieldChanged.emit("init", None if data == NETWORK_INIT else data)


def _muted(label: QLabel) -> QLabel:
    label.setProperty("role", "hint")  # muted text, styled by resources/styles/studio.qss
    return label


def _separator() -> QFrame:
    line = QFrame()
    line.setFrameShape(QFrame.Shape.HLine)
    line.setFrameShadow(QFrame.Shadow.Sunken)
    return line
