"""The layer-stack editor: palette, stack, properties and network initialisation, bound to one ModelSpec.

The spec lives in a plain :class:`ModelDocument`; every edit (buttons, keys, drag and drop, forms)
is an :class:`EditCommand` pushed on the undo stack that the main window owns, and every change of
the document, including undo and redo, refreshes the views and re-checks the shapes.
"""

from __future__ import annotations

import copy
from collections.abc import Hashable
from typing import Any

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QKeySequence, QUndoStack
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QScrollArea,
    QSplitter,
    QStyle,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from studio.core.errors import StudioError
from studio.core.init import INITS
from studio.core.layers import LAYERS, LayerRole
from studio.core.memory import TrainingPlan
from studio.core.project import LayerSpec, ModelSpec
from studio.core.shapes import parameter_shapes
from studio.ui.widgets.layer_editor import operations as ops
from studio.ui.widgets.layer_editor.commands import EditCommand, ModelDocument
from studio.ui.widgets.layer_editor.network import NetworkInitPanel
from studio.ui.widgets.layer_editor.palette import LayerPalette
from studio.ui.widgets.layer_editor.properties import LayerProperties
from studio.ui.widgets.layer_editor.rows import StackState, analyse
from studio.ui.widgets.layer_editor.stack import StackModel, StackView
from studio.ui.widgets.layer_editor.status import StatusBar

PALETTE_MIN_WIDTH = 140  # layer names and the start of their descriptions stay readable
SETTINGS_MIN_WIDTH = 250  # the properties form: label, field and the network's initialisation
LOCK_NOTE = "Training is running: the network is read-only until training stops."


class LayerEditor(QWidget):
    """Edits a network; ``modelChanged`` after every change, ``validityChanged(ok, reason)`` when the verdict moves."""

    modelChanged = Signal()
    validityChanged = Signal(bool, str)

    def __init__(self, undo_stack: QUndoStack, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("layerEditor")
        self.undo_stack = undo_stack
        self.document = ModelDocument()
        self._input: tuple[int, ...] | None = None
        self._n_outputs: int | None = None
        self._plan: TrainingPlan | None = None
        self._dataset_label = ""
        self._locked = False
        self._loading = False
        self._state: StackState = analyse(self.document.spec, None, None)
        self._validity: tuple[bool, str] | None = None
        self._build()
        self._make_actions()
        self.document.subscribe(self._document_changed)
        self._refresh(None)

    # -- public API -----------------------------------------------------------------------------

    def set_model(self, spec: ModelSpec) -> None:
        """Show ``spec`` (a copy is kept). Not an edit: no undo command and no ``modelChanged`` (the caller
        made the change); ``validityChanged`` still follows. The undo stack is left alone."""
        self._loading = True
        try:
            self.document.replace(copy.deepcopy(spec), 0 if spec.layers else None)
        finally:
            self._loading = False

    def model(self) -> ModelSpec:
        """A copy of the edited network."""
        return copy.deepcopy(self.document.spec)

    def set_input(self, input_shape: tuple[int, ...] | None, n_outputs: int | None, dataset_label: str,
                  plan: TrainingPlan | None = None) -> None:
        """The data the network must fit: per-sample input shape, outputs the loss needs, a short description,
        and how it will train (batch size, optimizer, device) for the memory guard."""
        self._input = tuple(input_shape) if input_shape is not None else None
        self._n_outputs = n_outputs
        self._plan = plan
        self._dataset_label = dataset_label
        self._refresh(self.stack_view.current_row())

    def is_valid(self) -> tuple[bool, str]:
        """Whether the network can train on the current data, and if not, why (the first problem)."""
        return self._state.ok, self._state.reason

    def problem(self) -> str | None:
        """Why the network cannot be built for the current data, or None when it can.

        Before any data is known only the layer settings are judged: the missing data is the data
        panel's to report (Train loads it), not a problem of the network.
        """
        state = self._state
        if state.ok or (self._input is None and state.error_row < 0):
            return None
        return state.reason

    def state(self) -> StackState:
        """Rows, totals and verdict as last computed (for the main window's summaries)."""
        return self._state

    def set_locked(self, locked: bool) -> None:
        """While training runs: no edits (palette, buttons, forms, drops), with a visible note."""
        self._locked = locked
        self.lock_note.setVisible(locked)
        self.layer_palette.setEnabled(not locked)
        self.stack_model.locked = locked
        self.properties.set_locked(locked)
        self.network_panel.set_locked(locked)
        self._sync_actions()

    def current_row(self) -> int | None:
        return self.stack_view.current_row()

    # -- edits (each one undoable) ----------------------------------------------------------------

    def add_layer(self, type_name: str, row: int | None = None) -> None:
        """Insert ``type_name`` at ``row``; by default below the selected row, or at the end."""
        if row is None:
            current = self.current_row()
            row = current + 1 if current is not None else len(self.document.spec.layers)
        row = min(max(row, 0), len(self.document.spec.layers))
        self._push(ops.add_layer(self.document.spec, type_name, row), f"Add {type_name}", row)

    def move_layer(self, source: int, target: int) -> None:
        layers = self.document.spec.layers
        if source == target or not (0 <= source < len(layers) and 0 <= target < len(layers)):
            return
        name = layers[source].type
        self._push(ops.move_layer(self.document.spec, source, target), f"Move {name}", target)

    def move_up(self) -> None:
        row = self.current_row()
        if row is not None:
            self.move_layer(row, row - 1)

    def move_down(self) -> None:
        row = self.current_row()
        if row is not None:
            self.move_layer(row, row + 1)

    def duplicate(self) -> None:
        row = self.current_row()
        if row is not None:
            name = self.document.spec.layers[row].type
            self._push(ops.duplicate_layer(self.document.spec, row), f"Duplicate {name}", row + 1)

    def delete(self) -> None:
        row = self.current_row()
        if row is None:
            return
        after = ops.remove_layer(self.document.spec, row)
        select = min(row, len(after.layers) - 1) if after.layers else None
        self._push(after, f"Delete {self.document.spec.layers[row].type}", select)

    def _set_param(self, name: str, value: Any) -> None:
        row = self.current_row()
        if row is None:
            return
        layer = self.document.spec.layers[row]
        after = ops.set_layer_param(self.document.spec, row, name, value)
        self._push(after, f"Change {layer.type} {name}", row, merge_key=_numeric_key(value, "param", row, name))

    def _set_field(self, name: str, value: Any) -> None:
        row = self.current_row()
        if row is None:
            return
        layer = self.document.spec.layers[row]
        if name == "init" and value != layer.init:
            after = ops.set_layer_init(self.document.spec, row, value, self._starting_values(row, value))
            self._push(after, f"Change {layer.type} initialisation", row)
            return
        after = ops.set_layer_field(self.document.spec, row, name, value)
        text = f"Change {layer.type} {name.replace('_', ' ')}"
        self._push(after, text, row, merge_key=_numeric_key(value, "field", row, name))

    def _starting_values(self, row: int, init: str | None) -> dict[str, Any]:
        """A new scheme's settings: for typed values, zeros of the row's shapes (when the data tells them)."""
        if init is None or init not in INITS or not INITS.get(init).layer_only:
            return {}
        shapes = self._parameter_shapes(row) or {}
        return {name: np.zeros(shape).tolist() for name, shape in shapes.items() if name in ("weight", "bias")}

    def _parameter_shapes(self, row: int) -> dict[str, tuple[int, ...]] | None:
        """Row ``row``'s weight and bias shapes for the current data, or None when they are not known."""
        in_shapes = self._state.in_shapes
        in_shape = in_shapes[row] if row < len(in_shapes) else None
        if in_shape is None:
            return None
        try:
            return parameter_shapes(self.document.spec.layers[row], row, in_shape)
        except StudioError:
            return None

    def _set_network(self, updates: dict[str, Any]) -> None:
        after = self.document.spec
        for name, value in updates.items():
            after = ops.set_network_field(after, name, value)
        # Only edits of the scheme's numbers merge; picking another scheme is its own undo step.
        key = ("network", *updates) if set(updates) in ({"init_params"}, {"bias_init_params"}) else None
        self._push(after, "Change weight initialisation", self.current_row(), merge_key=key)

    def _push(self, after: ModelSpec, text: str, select: int | None, merge_key: Hashable | None = None) -> None:
        if self._locked or after == self.document.spec:
            return
        command = EditCommand(self.document, after, text, select, self.current_row(), merge_key)
        self.undo_stack.push(command)

    # -- views ------------------------------------------------------------------------------------

    def _build(self) -> None:
        self.lock_note = QLabel(LOCK_NOTE)
        self.lock_note.setObjectName("lockNote")
        self.lock_note.setStyleSheet("background: #fff4ce; color: #5c4400; padding: 6px; border-radius: 4px;")
        self.lock_note.hide()
        self.layer_palette = LayerPalette()
        self.stack_model = StackModel(self)
        self.stack_view = StackView(self.stack_model)
        self.properties = LayerProperties()
        self.network_panel = NetworkInitPanel()
        self.status = StatusBar()
        self.add_button = _button("addLayerButton", "Add", "Add the chosen layer type below the selected row")
        self.add_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        left = _column(_hint("Layer types: double-click or drag onto the stack"), self.layer_palette, self.add_button)
        self.input_label = _hint("")
        self.input_label.setObjectName("inputLabel")
        self.move_up_button = _button(
            "moveUpButton", "Up", "Move the selected layer up", QStyle.StandardPixmap.SP_ArrowUp
        )
        self.move_down_button = _button(
            "moveDownButton", "Down", "Move the selected layer down", QStyle.StandardPixmap.SP_ArrowDown
        )
        self.duplicate_button = _button("duplicateButton", "Duplicate", "Insert a copy of the selected layer below it")
        self.delete_button = _button(
            "deleteButton", "Delete", "Delete the selected layer (Del)", QStyle.StandardPixmap.SP_TrashIcon
        )
        buttons = QHBoxLayout()
        for button in (self.move_up_button, self.move_down_button):
            # Arrows alone (names in tooltips and for screen readers): the stack keeps its width at 1024×700.
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly)
        for button in (self.move_up_button, self.move_down_button, self.duplicate_button, self.delete_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        middle = _column(self.input_label, self.stack_view, buttons, self.status)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        settings = _column(self.properties, self.network_panel)
        scroll.setWidget(settings)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        # The settings scroll down, never sideways: the pane is never narrower than its fields and labels
        # (a splitter would squeeze it to a sliver and cut them).
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        bar = scroll.verticalScrollBar().sizeHint().width()
        scroll.setMinimumWidth(max(SETTINGS_MIN_WIDTH, settings.minimumSizeHint().width()) + bar)
        left.setMinimumWidth(PALETTE_MIN_WIDTH)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        for widget in (left, middle, scroll):
            splitter.addWidget(widget)
        splitter.setStretchFactor(1, 1)
        splitter.setChildrenCollapsible(False)
        splitter.setSizes([200, 400, 300])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.lock_note)
        layout.addWidget(splitter, 1)
        self.layer_palette.addRequested.connect(self.add_layer)
        self.layer_palette.currentItemChanged.connect(lambda *_: self._sync_actions())
        self.stack_model.moveRequested.connect(self.move_layer)
        self.stack_model.insertRequested.connect(self.add_layer)
        self.stack_view.selectionModel().selectionChanged.connect(lambda *_: self._selection_changed())
        self.properties.paramChanged.connect(self._set_param)
        self.properties.fieldChanged.connect(self._set_field)
        self.network_panel.changed.connect(self._set_network)

    def _make_actions(self) -> None:
        """Buttons share QActions with the Del key and the stack's context menu.

        Undo and redo have no keys here: the window's Edit menu owns Ctrl+Z / Ctrl+Shift+Z for the one
        undo stack (two actions with the same key are an ambiguous shortcut, and neither fires).
        """
        self.delete_action = self._action("Delete", self.delete, self.delete_button, QKeySequence.StandardKey.Delete)
        self.add_action = self._action("Add", lambda: self._add_current(), self.add_button)
        self.move_up_action = self._action("Move up", self.move_up, self.move_up_button, "Alt+Up")
        self.move_down_action = self._action("Move down", self.move_down, self.move_down_button, "Alt+Down")
        self.duplicate_action = self._action("Duplicate", self.duplicate, self.duplicate_button, "Ctrl+D")
        self.stack_view.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
        for action in (self.move_up_action, self.move_down_action, self.duplicate_action, self.delete_action):
            self.stack_view.addAction(action)

    def _action(self, text: str, slot: Any, button: QToolButton, key: Any = None) -> QAction:
        action = QAction(button.icon(), text, self)
        action.setToolTip(button.toolTip())
        if key is not None:
            action.setShortcut(QKeySequence(key))
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        action.triggered.connect(slot)
        button.setDefaultAction(action)
        button.setAccessibleName(text)
        return action

    def _add_current(self) -> None:
        name = self.layer_palette.current_type()
        if name is not None:
            self.add_layer(name)

    def _document_changed(self, selection: int | None) -> None:
        """After each edit, undo, redo and load: refresh, and tell listeners unless it was ``set_model``."""
        self._refresh(selection)
        if not self._loading:
            self.modelChanged.emit()

    def _refresh(self, selection: int | None) -> None:
        """Re-check the network against the data and refresh every view; emit ``validityChanged`` if it moved."""
        self._state = analyse(self.document.spec, self._input, self._n_outputs, plan=self._plan)
        self.stack_model.set_rows(self._state.rows)
        self.stack_view.select_row(selection)
        self.network_panel.show_spec(self.document.spec)
        self.network_panel.set_error(self._state.error_field, self._state.reason)
        self.status.show_state(self._state, self._input is not None)
        self.input_label.setText(self._input_text())
        self._selection_changed()
        validity = (self._state.ok, self._state.reason)
        if validity != self._validity:
            self._validity = validity
            self.validityChanged.emit(*validity)

    def _selection_changed(self) -> None:
        row = self.current_row()
        spec = self.document.spec.layers[row] if row is not None else None
        shapes = self._parameter_shapes(row) if row is not None and spec is not None and spec.init in INITS else None
        learnable = has_weights(spec, self._state.rows[row].params if row is not None and row < len(
            self._state.rows) else None) if spec is not None else True
        self.properties.show_layer(row, spec, self.document.spec, shapes, learnable)
        if row is not None and row == self._state.error_row:
            self.properties.set_error(self._state.error_field, self._state.reason)
        self._sync_actions()

    def _sync_actions(self) -> None:
        row = self.current_row()
        count = len(self.document.spec.layers)
        editable = not self._locked
        self.add_action.setEnabled(editable and self.layer_palette.current_type() is not None)
        self.move_up_action.setEnabled(editable and row is not None and row > 0)
        self.move_down_action.setEnabled(editable and row is not None and row < count - 1)
        self.duplicate_action.setEnabled(editable and row is not None)
        self.delete_action.setEnabled(editable and row is not None)

    def _input_text(self) -> str:
        if self._input is None and self._dataset_label:
            return f"Data: {self._dataset_label}: shapes are checked once it has loaded."
        if self._input is None:
            return "No dataset chosen yet: shapes are checked once there is one."
        data = self._dataset_label or "×".join(str(d) for d in self._input) + " per sample"
        outputs = f"  ·  the network must output {self._n_outputs} values" if self._n_outputs is not None else ""
        return f"Data: {data}{outputs}"


def has_weights(spec: LayerSpec, counted: int | None) -> bool:
    """Whether a row has weights to initialise, freeze or tune: its counted parameters when the data is known,
    else what its type says (weighted layers, batch norm, blocks, layers with an affine setting)."""
    if counted is not None:
        return counted > 0
    if spec.type not in LAYERS:
        return True
    kind = LAYERS.get(spec.type)
    affine = any(p.name in ("affine", "elementwise_affine") for p in kind.params)
    return kind.block is not None or kind.role in (LayerRole.WEIGHTED, LayerRole.BATCH_NORM) or affine


def _numeric_key(value: Any, *key: Hashable) -> tuple[Hashable, ...] | None:
    """Merge key for number edits (the clicks of a spin box are one undo step); other edits stand alone."""
    return key if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _button(name: str, text: str, tip: str, icon: QStyle.StandardPixmap | None = None) -> QToolButton:
    button = QToolButton()
    button.setObjectName(name)
    button.setAccessibleName(text)
    button.setToolTip(tip)
    button.setText(text)
    if icon is not None:
        button.setIcon(button.style().standardIcon(icon))
        button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
    else:
        button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
    return button


def _hint(text: str) -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    label.setProperty("role", "hint")
    return label


def _column(*items: QWidget | QHBoxLayout) -> QWidget:
    widget = QWidget()
    layout = QVBoxLayout(widget)
    layout.setContentsMargins(2, 0, 2, 0)
    for item in items:
        if isinstance(item, QWidget):
            layout.addWidget(item, 1 if isinstance(item, (LayerPalette, StackView, LayerProperties)) else 0)
        else:
            layout.addLayout(item)
    return widget
