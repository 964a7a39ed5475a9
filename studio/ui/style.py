"""Look and feel: Fusion with a light or dark palette that follows the system, a small style sheet,
and SVG icons tinted to the palette so they stay readable in both themes and at any DPI.
"""

from __future__ import annotations

import os
import sys
from functools import cache
from importlib.resources import files

from PySide6.QtCore import QByteArray, QRectF, QSettings, QSize, Qt
from PySide6.QtGui import QColor, QGuiApplication, QIcon, QImage, QPainter, QPalette, QPixmap
from PySide6.QtSvg import QSvgRenderer
from PySide6.QtWidgets import QApplication

RESOURCES = files("studio") / "resources"  # inside the package, so wheels carry it
ICON_SIZES = (16, 20, 24, 32, 48, 64)

# Colours of the two palettes; the roles not listed keep Fusion's derivation from these.
_LIGHT = {
    "window": "#f3f4f6", "base": "#ffffff", "alt": "#f7f8fa", "text": "#1d2330", "mid": "#c9ced8",
    "button": "#eceef2", "highlight": "#2f6fd6", "disabled": "#9aa1ad", "tooltip": "#fffbe6", "link": "#2458b5",
}
_DARK = {
    "window": "#1f2228", "base": "#17191e", "alt": "#23262d", "text": "#e3e6ec", "mid": "#3a3f4a",
    "button": "#2b2f37", "highlight": "#4a86e8", "disabled": "#6b7280", "tooltip": "#2b2f37", "link": "#7fb0ff",
}


THEMES = ("system", "light", "dark")  # View > Theme; "system" follows the desktop's light or dark setting
THEME_KEY = "view/theme"


def chosen_theme() -> str:
    """The theme picked in View > Theme (``system`` until one is picked)."""
    value = str(QSettings().value(THEME_KEY, "system"))
    return value if value in THEMES else "system"


def wants_dark(app: QGuiApplication) -> bool:
    """True when the theme is dark: ``STUDIO_THEME=dark|light`` first, then View > Theme, then the system."""
    forced = os.environ.get("STUDIO_THEME", "").lower()
    if forced in ("dark", "light"):
        return forced == "dark"
    theme = chosen_theme()
    if theme != "system":
        return theme == "dark"
    return app.styleHints().colorScheme() == Qt.ColorScheme.Dark


def set_theme(theme: str) -> None:
    """Remember ``theme`` (one of :data:`THEMES`) and repaint the application with it now."""
    if theme not in THEMES:
        raise ValueError(f"unknown theme {theme!r}; choose one of {', '.join(THEMES)}")
    QSettings().setValue(THEME_KEY, theme)
    app = QApplication.instance()
    if isinstance(app, QApplication):
        _apply_theme(app)
        if "pyqtgraph" not in sys.modules:
            return  # no plot exists yet; the first one takes the new colours
        import pyqtgraph as pg

        pal = app.palette()
        for widget in app.allWidgets():  # plots made before the change keep their colours otherwise
            if isinstance(widget, pg.PlotWidget):
                widget.setBackground(pal.color(QPalette.ColorRole.Base))
                for name in ("left", "bottom"):
                    axis = widget.getAxis(name)
                    axis.setPen(pal.color(QPalette.ColorRole.Text))
                    axis.setTextPen(pal.color(QPalette.ColorRole.Text))


def make_palette(dark: bool) -> QPalette:
    """A complete palette for the light or the dark theme."""
    c = {key: QColor(value) for key, value in (_DARK if dark else _LIGHT).items()}
    pal = QPalette()
    roles = {
        QPalette.ColorRole.Window: c["window"], QPalette.ColorRole.WindowText: c["text"],
        QPalette.ColorRole.Base: c["base"], QPalette.ColorRole.AlternateBase: c["alt"],
        QPalette.ColorRole.Text: c["text"], QPalette.ColorRole.Button: c["button"],
        QPalette.ColorRole.ButtonText: c["text"], QPalette.ColorRole.Highlight: c["highlight"],
        QPalette.ColorRole.HighlightedText: QColor("#ffffff"), QPalette.ColorRole.ToolTipBase: c["tooltip"],
        QPalette.ColorRole.ToolTipText: c["text"], QPalette.ColorRole.Link: c["link"],
        QPalette.ColorRole.Mid: c["mid"], QPalette.ColorRole.PlaceholderText: c["disabled"],
    }
    for role, color in roles.items():
        pal.setColor(role, color)
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.WindowText, QPalette.ColorRole.ButtonText):
        pal.setColor(QPalette.ColorGroup.Disabled, role, c["disabled"])
    return pal


def apply_style(app: QApplication) -> None:
    """Fusion + palette + style sheet + plot colours; re-applied when the system theme changes."""
    app.setStyle("Fusion")
    _apply_theme(app)
    app.styleHints().colorSchemeChanged.connect(lambda _scheme: _apply_theme(app))


def _apply_theme(app: QApplication) -> None:
    dark = wants_dark(app)
    pal = make_palette(dark)
    app.setPalette(pal)
    app.setStyleSheet((RESOURCES / "styles" / "studio.qss").read_text(encoding="utf-8"))
    if "pyqtgraph" in sys.modules:  # never imported here: the first window must not wait for it (1-3 s)
        apply_plot_colours(app)
    _tinted_icon.cache_clear()


def apply_plot_colours(app: QApplication) -> None:
    """Give pyqtgraph the palette's colours; call it before the first plot is made."""
    import pyqtgraph as pg

    pal = app.palette()
    pg.setConfigOptions(
        background=pal.color(QPalette.ColorRole.Base), foreground=pal.color(QPalette.ColorRole.Text), antialias=True
    )


def icon(name: str) -> QIcon:
    """The icon ``name`` from ``studio/resources/icons``, tinted with the palette's text colour where it
    says ``currentColor``."""
    app = QApplication.instance()
    color = app.palette().color(QPalette.ColorRole.ButtonText).name() if isinstance(app, QApplication) else "#1d2330"
    return _tinted_icon(name, color)


@cache
def _tinted_icon(name: str, color: str) -> QIcon:
    svg = (RESOURCES / "icons" / f"{name}.svg").read_bytes()
    renderer = QSvgRenderer(QByteArray(svg.replace(b"currentColor", color.encode())))
    result = QIcon()
    for size in ICON_SIZES:
        image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
        image.fill(Qt.GlobalColor.transparent)
        painter = QPainter(image)
        renderer.render(painter, QRectF(0, 0, size, size))
        painter.end()
        result.addPixmap(QPixmap.fromImage(image))
    return result


def app_icon() -> QIcon:
    """The window icon."""
    return icon("app")


TOOLBAR_ICON_SIZE = QSize(20, 20)
