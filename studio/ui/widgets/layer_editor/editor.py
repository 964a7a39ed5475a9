"""The layer-stack editor: palette, stack tree, properties and network initialisation, bound to one ModelSpec.

The spec lives in a plain :class:`ModelDocument`; every edit (buttons, keys, drag and drop, forms) is an
:class:`EditCommand` pushed on the undo stack that the main window owns, and every change of the document,
including undo and redo, refreshes the views and re-checks the shapes. Rows are addressed by path
(``studio.core.tree``): ``(3,)`` is the fourth row, ``(3, 1)`` the second row inside it.
"""

from __future__ import annotations

import copy
from collections.abc import Hashable, Sequence
from typing import Any

import numpy as np
from PySide6.QtCore import Signal
from PySide6.QtGui import QUndoStack
from PySide6.QtWidgets import QWidget

from studio.core.errors import StudioError
from studio.core.init import INITS
from studio.core.layers import LAYERS, LayerRole, as_path
from studio.core.memory import TrainingPlan
from studio.core.project import LayerSpec, ModelSpec
from studio.core.shapes import parameter_shapes
from studio.core.tree import Path, is_block, row_at
from studio.ui.widgets.layer_editor import operations as ops
from studio.ui.widgets.layer_editor.actions import EditorActions
from studio.ui.widgets.layer_editor.commands import EditCommand, ModelDocument
from studio.ui.widgets.layer_editor.layout import lay_out
from studio.ui.widgets.layer_editor.network import NetworkInitPanel
from studio.ui.widgets.layer_editor.palette import LayerPalette
from studio.ui.widgets.layer_editor.properties import LayerProperties
from studio.ui.widgets.layer_editor.rows import StackState, analyse
from studio.ui.widgets.layer_editor.stack import StackModel
from studio.ui.widgets.layer_editor.stack_view import StackView
from studio.ui.widgets.layer_editor.status import StatusBar


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
        self.locked = False
        self._loading = False
        self._state: StackState = analyse(self.document.spec, None, None)
        self._validity: tuple[bool, str] | None = None
        self._shown_error: Path | None = None
        self.layer_palette = LayerPalette()
        self.stack_model = StackModel(self)
        self.stack_view = StackView(self.stack_model)
        self.properties = LayerProperties()
        self.network_panel = NetworkInitPanel()
        self.status = StatusBar()
        self.edit_actions = EditorActions(self, self)
        self.lock_note, self.input_label = lay_out(self, self.layer_palette, self.stack_view, self.properties,
                                                   self.network_panel, self.status, self.edit_actions.buttons)
        self._connect()
        self.document.subscribe(self._document_changed)
        self._refresh(())

    # -- public API -----------------------------------------------------------------------------

    def set_model(self, spec: ModelSpec) -> None:
        """Show ``spec`` (a copy is kept; every block open). Not an edit: no undo command and no
        ``modelChanged`` (the caller made the change); ``validityChanged`` still follows. The undo stack is
        left alone."""
        self._loading = True
        try:
            self.document.replace(copy.deepcopy(spec), ((0,),) if spec.layers else (), folded=())
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
        self._refresh(self.selection())

    def is_valid(self) -> tuple[bool, str]:
        """Whether the network can train on the current data, and if not, why (the first problem)."""
        return self._state.ok, self._state.reason

    def problem(self) -> str | None:
        """Why the network cannot be built for the current data, or None when it can.

        Before any data is known only the layer settings are judged: the missing data is the data
        panel's to report (Train loads it), not a problem of the network.
        """
        state = self._state
        if state.ok or (self._input is None and state.error_path is None):
            return None
        return state.reason

    def state(self) -> StackState:
        """Rows, totals and verdict as last computed (for the main window's summaries)."""
        return self._state

    def set_locked(self, locked: bool) -> None:
        """While training runs: no edits (palette, buttons, forms, drops), with a visible note."""
        self.locked = locked
        self.lock_note.setVisible(locked)
        self.layer_palette.setEnabled(not locked)
        self.stack_model.locked = locked
        self.properties.set_locked(locked)
        self.network_panel.set_locked(locked)
        self.edit_actions.sync()

    def selection(self) -> ops.Selection:
        """The selected rows' paths, top to bottom."""
        return tuple(self.stack_view.selected_paths())

    def current_path(self) -> Path | None:
        """The row whose settings show (the only selected one), or None."""
        return self.stack_view.current_path()

    # -- edits (each one undoable) ----------------------------------------------------------------

    def add_layer(self, type_name: str, where: int | Path | None = None) -> None:
        """Insert ``type_name`` at ``where`` (a top-level index or a path); by default below the selected row,
        into the selected block when it is open, or at the end."""
        layers = self.document.spec.layers
        if where is None:
            selection = self.selection()
            open_block = bool(selection) and max(selection) not in self.document.folded
            path = ops.insertion_point(layers, selection, open_block)
        else:
            path = as_path(where)
        self._edit(lambda spec: ops.add_row(spec, type_name, path), f"Add {type_name}")

    def add_current_type(self) -> None:
        """Add the palette's current type (the Add button)."""
        name = self.layer_palette.current_type()
        if name is not None:
            self.add_layer(name)

    def move_rows(self, paths: Sequence[Path], parent: Path, index: int) -> None:
        """Move rows into ``parent``'s list (``()``: the stack) before its row ``index`` (a drop)."""
        moving = ops.outermost(paths)
        if moving:
            what = row_at(self.document.spec.layers, moving[0]).type if len(moving) == 1 else f"{len(moving)} layers"
            self._edit(lambda spec: ops.move_rows(spec, moving, parent, index), f"Move {what}")

    def move_up(self) -> None:
        self._edit_run(lambda spec, run: ops.move_run(spec, run, -1), "Move {}")

    def move_down(self) -> None:
        self._edit_run(lambda spec, run: ops.move_run(spec, run, +1), "Move {}")

    def duplicate(self) -> None:
        self._edit_run(ops.duplicate_rows, "Duplicate {}")

    def delete(self) -> None:
        paths = ops.outermost(self.selection())
        if paths:
            self._edit(lambda spec: ops.remove_rows(spec, paths), f"Delete {self._what(paths)}")

    def wrap(self, block_type: str) -> None:
        """Put the selected neighbouring rows into a new ``block_type`` block (Wrap in Residual)."""
        self._edit_run(lambda spec, run: ops.wrap(spec, run, block_type), f"Wrap {{}} in {block_type}")

    def unwrap(self) -> None:
        """Replace the selected block by its rows."""
        path = self.current_path()
        if path is not None and is_block(row_at(self.document.spec.layers, path)):
            name = row_at(self.document.spec.layers, path).type
            self._edit(lambda spec: ops.unwrap(spec, path), f"Unwrap {name}")

    def _edit_run(self, change: Any, text: str) -> None:
        """An edit of the selected run of neighbouring rows (nothing when the selection is not one)."""
        run = self.selection()
        if ops.sibling_run(run) is not None:
            self._edit(lambda spec: change(spec, run), text.format(self._what(run)))

    def _what(self, paths: Sequence[Path]) -> str:
        return row_at(self.document.spec.layers, paths[0]).type if len(paths) == 1 else f"{len(paths)} layers"

    def _set_param(self, name: str, value: Any) -> None:
        path = self.current_path()
        if path is None:
            return
        kind = row_at(self.document.spec.layers, path).type
        self._edit(lambda spec: ops.set_param(spec, path, name, value), f"Change {kind} {name}",
                   _numeric_key(value, "param", path, name))

    def _set_field(self, name: str, value: Any) -> None:
        path = self.current_path()
        if path is None:
            return
        layer = row_at(self.document.spec.layers, path)
        if name == "init" and value != layer.init:
            values = self._starting_values(path, value)
            self._edit(lambda spec: ops.set_layer_init(spec, path, value, values),
                       f"Change {layer.type} initialisation")
            return
        self._edit(lambda spec: ops.set_layer_field(spec, path, name, value),
                   f"Change {layer.type} {name.replace('_', ' ')}", _numeric_key(value, "field", path, name))

    def _starting_values(self, path: Path, init: str | None) -> dict[str, Any]:
        """A new scheme's settings: for typed values, zeros of the row's shapes (when the data tells them)."""
        if init is None or init not in INITS or not INITS.get(init).layer_only:
            return {}
        shapes = self._parameter_shapes(path) or {}
        return {name: np.zeros(shape).tolist() for name, shape in shapes.items() if name in ("weight", "bias")}

    def _parameter_shapes(self, path: Path) -> dict[str, tuple[int, ...]] | None:
        """The row's weight and bias shapes for the current data, or None when they are not known."""
        in_shape = self._state.in_shapes.get(path)
        if in_shape is None:
            return None
        try:
            return parameter_shapes(row_at(self.document.spec.layers, path), path, in_shape)
        except StudioError:
            return None

    def _set_network(self, updates: dict[str, Any]) -> None:
        selection = self.selection()

        def change(spec: ModelSpec) -> ops.Selection:
            for name, value in updates.items():
                ops.set_network_field(spec, name, value)
            return selection

        # Only edits of the scheme's numbers merge; picking another scheme is its own undo step.
        key = ("network", *updates) if set(updates) in ({"init_params"}, {"bias_init_params"}) else None
        self._edit(change, "Change weight initialisation", key)

    def _edit(self, change: ops.Change, text: str, merge_key: Hashable | None = None) -> None:
        """Run ``change`` on a copy of the spec and push it as one undo step (nothing while locked or unchanged)."""
        if self.locked:
            return
        edit = ops.edited(self.document.spec, change)
        if edit.after == self.document.spec:
            return
        self.undo_stack.push(EditCommand(self.document, edit.after, text, edit.selection, self.selection(),
                                         merge_key, edit.moved))

    # -- views ------------------------------------------------------------------------------------

    def _connect(self) -> None:
        self.layer_palette.addRequested.connect(self.add_layer)
        self.layer_palette.currentItemChanged.connect(lambda *_: self.edit_actions.sync())
        self.stack_model.moveRequested.connect(self.move_rows)
        self.stack_model.insertRequested.connect(self.add_layer)
        self.stack_view.selectionModel().selectionChanged.connect(lambda *_: self._selection_changed())
        self.stack_view.foldChanged.connect(self.document.set_folded)
        self.properties.paramChanged.connect(self._set_param)
        self.properties.fieldChanged.connect(self._set_field)
        self.network_panel.changed.connect(self._set_network)

    def _document_changed(self, selection: ops.Selection) -> None:
        """After each edit, undo, redo and load: refresh, and tell listeners unless it was ``set_model``."""
        self._refresh(selection)
        if not self._loading:
            self.modelChanged.emit()

    def _refresh(self, selection: ops.Selection) -> None:
        """Re-check the network against the data and refresh every view; emit ``validityChanged`` if it moved."""
        self._state = analyse(self.document.spec, self._input, self._n_outputs, plan=self._plan)
        self._reveal_error()
        self.stack_model.set_rows(self._state.rows)
        self.stack_view.apply_folds(self.document.folded)
        self.stack_view.select_paths(selection)
        self.network_panel.show_spec(self.document.spec)
        self.network_panel.set_error(self._state.error_field, self._state.reason)
        self.status.show_state(self._state, self._input is not None)
        self.input_label.setText(self._input_text())
        self._selection_changed()
        validity = (self._state.ok, self._state.reason)
        if validity != self._validity:
            self._validity = validity
            self.validityChanged.emit(*validity)

    def _reveal_error(self) -> None:
        """Open the blocks around a row that has just become the offending one, so its mark can be seen, and
        the block itself when the problem is its own (what its rows make of the input explains it)."""
        where = self._state.error_path
        if where is not None and where != self._shown_error:
            for depth in range(1, len(where) + 1):
                self.document.set_folded(where[:depth], False)
        self._shown_error = where

    def _selection_changed(self) -> None:
        path = self.current_path()
        spec = row_at(self.document.spec.layers, path) if path is not None else None
        shapes = self._parameter_shapes(path) if path is not None and spec is not None and spec.init in INITS else None
        count = len(self.selection())
        row = self.stack_model.row_view(path) if path is not None else None
        learnable = has_weights(spec, row.params if row is not None else None) if spec is not None else True
        self.properties.show_layer(path, spec, self.document.spec, shapes, learnable, selected=count)
        if path is not None and path == self._state.error_path:
            self.properties.set_error(self._state.error_field, self._state.reason)
        self.edit_actions.sync()

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
