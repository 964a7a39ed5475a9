"""The command line's default runs folder is the window's: Qt's AppDataLocation under the app's names."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QCoreApplication, QStandardPaths

from studio.app import APPLICATION, ORGANIZATION
from studio.core.runs import APP_FOLDER, default_runs_root


def test_default_runs_root_is_where_qt_puts_the_windows_data(qapp) -> None:
    old = QCoreApplication.organizationName(), QCoreApplication.applicationName()
    QCoreApplication.setOrganizationName(ORGANIZATION)
    QCoreApplication.setApplicationName(APPLICATION)
    try:
        qt = Path(QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation))
    finally:
        QCoreApplication.setOrganizationName(old[0])
        QCoreApplication.setApplicationName(old[1])
    assert (ORGANIZATION, APPLICATION) == APP_FOLDER
    assert default_runs_root() == qt / "runs"
