"""Start the desktop app: the QApplication (names for QSettings, high-DPI, theme) and the window.

The entry point (``studio.__main__``) calls :func:`main` when ``studio`` is started without a
command: with no arguments, or with the path of a project file to open instead of the default one.
"""

from __future__ import annotations

import signal
import sys
from collections.abc import Sequence

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication

from studio import __version__

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


def main(project: str | None = None) -> int:
    """Open the window (on the project file ``project``, if given) and run the event loop."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)  # Ctrl+C while starting: just end (nothing to save yet)
    app = create_app(sys.argv[:1])
    from studio.ui import startup
    from studio.ui.excepthook import install_excepthook
    from studio.ui.interrupt import close_on_ctrl_c
    from studio.ui.main_window import MainWindow  # imported after the palette so plots pick up its colours

    window = MainWindow()
    install_excepthook(window.dialogs)  # a bug in a slot becomes a dialog with its details; the app runs on
    if project is not None:
        window.document.open(project)
    probe = startup.watch(window)
    window.show()
    if probe:
        probe.shown()
    close_on_ctrl_c(window, window.shutdown)  # Ctrl+C in the terminal closes the window as its close button does
    app.aboutToQuit.connect(window.shutdown)
    return app.exec()

