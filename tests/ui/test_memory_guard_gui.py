"""The memory guard in the window (issue 16, point 4): a network too large for this computer marks the row
that needs the most, and Train refuses with the same line; a smaller batch or network clears it."""

from __future__ import annotations

from studio.core.project import LayerSpec, ModelSpec
from tests.ui.conftest import open_window

HUGE = ModelSpec([LayerSpec("Linear", {"out_features": 65536}) for _ in range(8)]
                 + [LayerSpec("Linear", {"out_features": 10})])


def test_a_network_too_large_is_marked_and_cannot_train(qtbot, temp_settings, host):
    window = open_window(qtbot, host)
    try:
        window.editor.set_model(HUGE)
        state = window.editor.state()
        assert not state.ok and state.error_path is not None and 1 <= state.error_path[0] <= 7
        index = state.error_path[0]
        row = state.rows[index]
        assert row.error.startswith(f"layer {index + 1} (Linear 65536) needs") and "in all" in row.error
        assert window.train_blocker() == f"The network cannot be built: {row.error}"
        assert "Cannot train yet: layer" in window.commands["train"].toolTip()
        window.commands["train"].trigger()
        shown = window.dialogs.shown[-1]
        assert shown.title == "Cannot train yet" and "(Linear 65536) needs" in shown.text
        assert not window.training.busy()
        window.editor.grab().save("/tmp/memory-guard.png")

        window.editor.set_model(window.document.project.model)
        assert window.editor.state().ok and window.train_blocker() is None
    finally:
        window.shutdown()
