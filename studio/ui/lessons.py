"""The Experiments menu: each classic lesson opens its preset ready to run, with a short explanation.

The lessons themselves (which preset, which experiment) are data in ``studio.core.lab.lessons``; this
module only turns them into menu entries and shows the right page: the Train tab for lessons that are
ordinary training runs, the lab's panel for the others.
"""

from __future__ import annotations

from PySide6.QtWidgets import QMenu

from studio.core.lab.lessons import LESSONS
from studio.core.presets import load_preset
from studio.core.vocab import MessageKind, TrainingState
from studio.ui.dialogs import Message
from studio.ui.lab.lab_panel import LabPanel
from studio.ui.lab.window import LAB_PAGE
from studio.ui.shell import Shell
from studio.ui.workspace import TRAIN_PAGE

# Which lab panel (an attribute of LabPanel) shows each kind of experiment; "train" uses the Train tab.
PANELS = {"probe": "probe", "race": "race", "compare": "compare_page", "sweep": "sweep",
          "sanity": "sanity", "lr_find": "lr_finder", "modes": "modes"}  # fmt: skip
NEXT_STEP = {
    "train": "Press Train (Ctrl+Enter) and watch the plots.",
    "probe": "Press Run in the Lab's Initialisation page: no training needed.",
    "race": "Press Start in the Lab's Optimizer race page.",
    "compare": "Press Compare in the Lab, then run the pair.",
    "sweep": "Press Run sweep in the Lab's Sweep page: every cell of the grid is a real run.",
    "sanity": "Press Run in the Lab's Sanity check page.",
    "lr_find": "Press Find in the Lab's Learning rate page.",
    "modes": "Open the Lab's Train vs eval page.",
}


def attach_lessons(w: Shell) -> QMenu:
    """Add the Experiments menu (before Help); it is off while a run trains, like File > Open."""
    menu = QMenu("E&xperiments", w.dialog_parent())
    menu.setObjectName("experimentsMenu")
    for name, lesson in LESSONS.items():
        action = menu.addAction(lesson.title)
        action.setObjectName(f"lesson_{name}")
        action.setStatusTip(f"Open the preset {name!r} ready to run")
        action.triggered.connect(lambda _checked=False, n=name: open_lesson(w, n))
    w.add_menu(menu, before="help")
    w.training.stateChanged.connect(lambda state: menu.setEnabled(state == TrainingState.IDLE))
    return menu


def open_lesson(w: Shell, name: str) -> bool:
    """Open lesson ``name``'s preset (after asking about unsaved changes), show its page and explain it."""
    lesson = LESSONS.get(name)
    if not w.document.maybe_save():
        return False
    project = load_preset(lesson.preset)
    w.document.adopt(project)
    if lesson.experiment == "train":
        w.workspace.show_page(TRAIN_PAGE)
    else:  # the lab is looked up now, by name: it may have been attached before or after this menu
        lab = w.workspace.page(LAB_PAGE, LabPanel)
        lab.show_panel(getattr(lab, PANELS[lesson.experiment]))
        if lesson.experiment == "sweep":
            lab.prepare_sweep(list(lesson.options["axes"]), lesson.options.get("repeats", 1), project.training.epochs)
        w.workspace.show_page(LAB_PAGE)
    next_step = NEXT_STEP[lesson.experiment]
    w.dialogs.message(Message(MessageKind.INFO, lesson.title, project.description, details=next_step))
    return True
