"""The layer-stack editor: palette, stack table, properties form, undo commands."""

from studio.ui.widgets.layer_editor.editor import LayerEditor

__all__ = ["LayerEditor"]
