"""The window's actions, menus and toolbar, described as data.

Each action is an :class:`ActionSpec`; menus and the toolbar are lists of action keys. A feature
added later (resume from a checkpoint, export) appends its spec with :meth:`Actions.add` and inserts
its key into a menu list before the menus are built; nothing here needs to know about it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu, QMenuBar, QToolBar, QWidget

from studio.ui import style


@dataclass(frozen=True)
class ActionSpec:
    """One user command: stable ``key``, menu ``text``, shortcuts, icon name, tooltip, automation name."""

    key: str
    text: str
    shortcuts: tuple[str | QKeySequence.StandardKey, ...] = ()
    icon: str = ""
    tip: str = ""
    object_name: str = ""


ACTIONS: list[ActionSpec] = [
    ActionSpec(
        "new", "&New Project", (QKeySequence.StandardKey.New,), "new", "Start from the default project", "newButton"
    ),
    ActionSpec("new_from_folder", "New from &Image Folder…", (), "",
               "A project that fine-tunes a pretrained network on your pictures (one sub-folder per class)"),
    ActionSpec("open", "&Open…", (QKeySequence.StandardKey.Open,), "open", "Open a project file", "openButton"),
    ActionSpec("save", "&Save", (QKeySequence.StandardKey.Save,), "save", "Save the project", "saveButton"),
    ActionSpec("save_as", "Save &As…", (QKeySequence.StandardKey.SaveAs,), "", "Save the project under a new name"),
    ActionSpec("resume_run", "&Resume Run…", (), "", "Continue a saved run exactly where it stopped"),
    ActionSpec("fine_tune", "&Fine-tune From…", (), "", "Start the next run from trained weights"),
    ActionSpec("export", "&Export…", ("Ctrl+E",), "", "Export the trained model of the latest run"),
    ActionSpec("quit", "&Quit", (QKeySequence.StandardKey.Quit,), "", "Close Training Studio"),
    # The only owners of the undo keys (the layer editor has none): one stack, one shortcut each.
    ActionSpec("undo", "&Undo", ("Ctrl+Z",), "", "Undo the last change to the network (Ctrl+Z)"),
    ActionSpec("redo", "&Redo", ("Ctrl+Shift+Z", "Ctrl+Y"), "", "Redo the change to the network (Ctrl+Shift+Z)"),
    ActionSpec(
        "train", "&Train", ("Ctrl+Return", "Ctrl+Enter"), "play", "Train the network (Ctrl+Enter)", "trainButton"
    ),
    ActionSpec("pause", "&Pause", ("Ctrl+Space",), "pause", "Pause or resume training (Ctrl+Space)", "pauseButton"),
    ActionSpec("stop", "&Stop", ("Esc",), "stop", "Stop training after the current batch (Esc)", "stopButton"),
    ActionSpec("show_network", "&Network", ("Ctrl+1",), "", "Show the network editor"),
    ActionSpec("show_data", "&Data", ("Ctrl+2",), "", "Show the dataset settings"),
    ActionSpec("show_optimizer", "&Optimizer", ("Ctrl+3",), "", "Show the optimizer and training settings"),
    ActionSpec("about", "&About Training Studio", (), "", "Version and credits"),
]

# "@recent" is the Recent Files submenu; None is a separator.
MENUS: dict[str, list[str | None]] = {
    "&File": [
        "new", "new_from_folder", "open", "@recent", None, "save", "save_as", None, "resume_run", "fine_tune", "export",
        None, "quit",
    ],
    "&Edit": ["undo", "redo"],
    "&Training": ["train", "pause", "stop"],
    "&View": ["show_network", "show_data", "show_optimizer", None, "@theme"],
    "&Help": ["about"],
}
TOOLBAR: list[str | None] = ["new", "open", "save", None, "train", "pause", "stop"]


class Actions:
    """The window's QActions by key, and the menus and toolbar built from them."""

    def __init__(self, parent: QWidget, specs: Sequence[ActionSpec] = ACTIONS) -> None:
        self.parent = parent
        self.specs: dict[str, ActionSpec] = {}
        self.by_key: dict[str, QAction] = {}
        self.menus: dict[str, QMenu] = {}
        self.toolbar: QToolBar | None = None
        for spec in specs:
            self.add(spec)

    def add(self, spec: ActionSpec) -> QAction:
        """Create the QAction for ``spec``; a key can be added once."""
        if spec.key in self.by_key:
            raise ValueError(f"action {spec.key!r} already exists")
        action = QAction(spec.text, self.parent)
        action.setObjectName(f"action_{spec.key}")
        action.setShortcuts([QKeySequence(s) for s in spec.shortcuts])
        action.setToolTip(spec.tip or spec.text.replace("&", ""))
        action.setStatusTip(spec.tip)
        if spec.icon:
            action.setIcon(style.icon(spec.icon))
        self.parent.addAction(action)  # shortcuts work even when the menu bar is hidden
        self.specs[spec.key] = spec
        self.by_key[spec.key] = action
        return action

    def __getitem__(self, key: str) -> QAction:
        return self.by_key[key]

    def retint(self) -> None:
        """Draw every icon again in the palette's colours (after the theme changed)."""
        for key, spec in self.specs.items():
            if spec.icon:
                self.by_key[key].setIcon(style.icon(spec.icon))

    def set_text(self, key: str, text: str, icon: str = "") -> None:
        """Rename a command (Pause becomes Resume): its menu text, its icon if given and its toolbar button's
        accessible name."""
        action = self.by_key[key]
        action.setText(text)
        if icon:
            action.setIcon(style.icon(icon))
        button = self.toolbar.widgetForAction(action) if self.toolbar is not None else None
        if button is not None:
            button.setAccessibleName(text.replace("&", ""))

    def connect(self, handlers: Mapping[str, Callable[[], object]]) -> None:
        """Connect ``triggered`` of each named action to its handler."""
        for key, handler in handlers.items():
            self.by_key[key].triggered.connect(lambda _checked=False, h=handler: h())

    def build_menus(self, bar: QMenuBar, menus: Mapping[str, Sequence[str | None]] = MENUS) -> None:
        """Fill ``bar``; each "@name" entry becomes an empty submenu stored in ``self.menus[name]``."""
        for title, keys in menus.items():
            menu = bar.addMenu(title)
            self.menus[title.replace("&", "").lower()] = menu
            for key in keys:
                if key is None:
                    menu.addSeparator()
                elif key.startswith("@"):
                    sub = menu.addMenu(key[1:].replace("_", " ").title())
                    sub.setObjectName(f"{key[1:]}Menu")
                    self.menus[key[1:]] = sub
                else:
                    menu.addAction(self.by_key[key])

    def build_toolbar(self, toolbar: QToolBar, keys: Sequence[str | None] = TOOLBAR) -> None:
        """Fill ``toolbar``; buttons of actions with an automation name get it as objectName."""
        self.toolbar = toolbar
        for key in keys:
            if key is None:
                toolbar.addSeparator()
                continue
            action = self.by_key[key]
            toolbar.addAction(action)
            spec = self.specs[key]
            if spec.object_name:
                button = toolbar.widgetForAction(action)
                button.setObjectName(spec.object_name)
                button.setAccessibleName(spec.text.replace("&", ""))
                button.setAccessibleDescription(spec.tip)
