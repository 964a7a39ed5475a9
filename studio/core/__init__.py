"""The Qt-free core: specs as data, shape inference, datasets, the training engine.

Nothing under this package may import PySide6 or pyqtgraph (a test enforces it), so the
same code runs in the GUI's worker thread, on the command line and on a headless server.
"""
