"""Start the desktop app: the QApplication (names for QSettings, high-DPI, theme) and the window.

``studio`` (console script) and ``python main.py`` without arguments call :func:`main`; a path
argument opens that project instead of the default one.
"""

from __future__ import annotations

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


def main(argv: Sequence[str] | None = None) -> int:
    """Open the window (on the project file given as the only argument, if any) and run the event loop."""
    args = list(sys.argv if argv is None else argv)
    app = create_app(args)
    from studio.ui.main_window import MainWindow  # imported after the palette so plots pick up its colours

    window = MainWindow()
    if len(args) > 1:
        window.document.open(args[1])
    window.show()
    app.aboutToQuit.connect(window.shutdown)
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
