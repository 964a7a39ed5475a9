"""Start the desktop app: the QApplication (names for QSettings, high-DPI, theme) and the window.

The entry point (``studio.__main__``) calls :func:`main` when ``studio`` is started without a
command: with no arguments, or with the path of a project file to open instead of the default one.
"""

from __future__ import annotations

import signal
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication

from studio import __version__

if TYPE_CHECKING:
    from studio.ui.main_window import MainWindow
    from studio.ui.preparing import PreparingWindow
    from studio.ui.startup import StartupProbe

ORGANIZATION = "Training Studio"
APPLICATION = "Training Studio"


def create_app(argv: Sequence[str] | None = None) -> QApplication:
    """The QApplication with names (where QSettings are stored), DPI policy and the theme."""
    existing = QApplication.instance()
    if isinstance(existing, QApplication):
        app = existing
    else:
        # Keep fractional scale factors (125 %, 150 %) instead of rounding, so text stays crisp.
        QGuiApplication.setHighDpiScaleFactorRoundingPolicy(Qt.HighDpiScaleFactorRoundingPolicy.PassThrough)
        app = QApplication(list(argv if argv is not None else sys.argv))
    QCoreApplication.setOrganizationName(ORGANIZATION)
    QCoreApplication.setApplicationName(APPLICATION)
    QCoreApplication.setApplicationVersion(__version__)
    from studio.ui import style

    style.apply_style(app)
    app.setWindowIcon(style.app_icon())
    return app


def start_window(project: str | None = None, **options: Any) -> MainWindow:
    """The window on the project file ``project``, else on the one shown when the studio was last closed,
    else on the default project; ``options`` go to :class:`MainWindow`."""
    from studio.ui import persist
    from studio.ui.main_window import MainWindow  # imported after the palette so plots pick up its colours

    window = MainWindow(**options)
    path = project or persist.last_project()
    if path is not None:
        window.document.open(path)
    return window


def main(project: str | None = None) -> int:
    """Open the window (on the project file ``project``, if given) and run the event loop.

    The first window (:mod:`studio.ui.preparing`) needs Qt alone and shows at once; the worker
    thread imports torch and the full window's modules meanwhile, then the full window takes its place.
    """
    signal.signal(signal.SIGINT, signal.SIG_DFL)  # Ctrl+C while starting: just end (nothing to save yet)
    app = create_app(sys.argv[:1])
    from studio.ui import startup
    from studio.ui.preparing import PreparingWindow

    first = PreparingWindow()
    probe = startup.watch(first)
    first.prepared.connect(lambda: _open_full_window(app, first, project, probe))
    if probe:
        first.failed.connect(probe.failed)
    app.aboutToQuit.connect(first.shutdown)  # closed while preparing: join the worker thread
    first.show()
    if probe:
        probe.shown()
    return app.exec()


def _open_full_window(
    app: QApplication, first: PreparingWindow, project: str | None, probe: StartupProbe | None
) -> None:
    """Build the full window in the first one's place, on the worker thread that imported torch."""
    from studio.ui import style
    from studio.ui.excepthook import install_excepthook
    from studio.ui.interrupt import close_on_ctrl_c
    from studio.ui.workers import WorkerHost

    if probe:
        probe.prepared()
    style.apply_plot_colours(app)  # before the first plot is made
    window = start_window(project, host=WorkerHost(thread=first.hand_over_thread()))
    install_excepthook(window.dialogs)  # a bug in a slot becomes a dialog with its details; the app runs on
    window.show()
    first.close()
    if probe:
        probe.ready(window)
    close_on_ctrl_c(window, window.shutdown)  # Ctrl+C in the terminal closes the window as its close button does
    app.aboutToQuit.connect(window.shutdown)
