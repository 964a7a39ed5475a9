"""How the Inspect panel joins the window: an "Inspect" page in the workspace, and an InspectCallback on
every run the window starts (for a run in another process, the views come from its saved weights).
A feature: :func:`attach_inspect` receives the :class:`~studio.ui.shell.Shell`.
"""

from __future__ import annotations

from studio.ui.inspect.panel import InspectPanel
from studio.ui.inspect.process_views import ProcessRunViews
from studio.ui.shell import Shell
from studio.ui.workspace import INSPECT_ORDER

INSPECT_PAGE, INSPECT_TAB = "inspect", "Inspect"


def attach_inspect(w: Shell) -> InspectPanel:
    """Build the Inspect panel, add it as the workspace page ``"inspect"`` and watch every run the window starts."""
    panel = InspectPanel(w.worker, w.dialogs)
    w.workspace.add_page(INSPECT_PAGE, panel, INSPECT_TAB, order=INSPECT_ORDER)
    w.training.add_run_callbacks(lambda _project: panel.training_callbacks())
    ProcessRunViews(w, panel)  # runs in another process: the views from the weights they save
    return panel
