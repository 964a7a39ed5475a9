"""The Qt user interface of Training Studio (the only package that imports PySide6/pyqtgraph)."""
