"""The generated parameter form: editors per kind, ranges, log stepping, optional values, errors."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
)

from studio.core.params import Param
from studio.ui.widgets.param_editors import wants_folder
from studio.ui.widgets.param_form import ParamForm
from studio.ui.widgets.spin_boxes import LogSpinBox, format_number, log_step

PARAMS = (
    Param("units", "int", 64, "How many outputs.", min=1, max=4096),
    Param("p", "float", 0.5, "Drop probability.", min=0.0, max=1.0),
    Param("lr", "float", 1e-3, "Learning rate.", min=1e-8, max=10.0, log=True),
    Param("bias", "bool", True, "Learn a bias."),
    Param("mode", "choice", "fan_in", "Which fan.", choices=("fan_in", "fan_out")),
    Param("name", "str", "net", "A name."),
    Param("root", "path", "", "The image folder."),
    Param("patience", "int", None, "Stop after this many epochs.", min=1, max=100, optional=True),
)


@pytest.fixture
def form(qtbot) -> ParamForm:
    widget = ParamForm(PARAMS, {"units": 128}, owner="Linear")
    qtbot.addWidget(widget)
    return widget


def test_one_editor_per_kind_with_names_ranges_and_help(form: ParamForm) -> None:
    kinds = {
        "units": QSpinBox,
        "p": QDoubleSpinBox,
        "lr": LogSpinBox,
        "bias": QCheckBox,
        "mode": QComboBox,
        "name": QLineEdit,
        "root": QLineEdit,
        "patience": QSpinBox,
    }
    for name, cls in kinds.items():
        editor = form.findChild(cls, f"param_{name}")
        assert editor is not None, name
        param = next(p for p in PARAMS if p.name == name)
        assert editor.accessibleName() == param.title
        assert editor.toolTip() == param.help == editor.accessibleDescription()
    units = form.field("units")
    assert (units.minimum(), units.maximum()) == (1, 4096)
    assert (form.field("p").minimum(), form.field("p").maximum()) == (0.0, 1.0)
    assert form.findChild(QPushButton, "param_root_browse") is not None
    assert form.values() == {
        "units": 128,
        "p": 0.5,
        "lr": 1e-3,
        "bias": True,
        "mode": "fan_in",
        "name": "net",
        "root": "",
        "patience": None,
    }


def test_user_edits_emit_changed_and_set_values_is_silent(qtbot, form: ParamForm) -> None:
    with qtbot.waitSignal(form.changed) as blocker:
        form.field("units").setValue(32)
    assert blocker.args == ["units", 32]
    with qtbot.waitSignal(form.changed) as blocker:
        form.field("mode").setCurrentIndex(1)
    assert blocker.args == ["mode", "fan_out"]
    with qtbot.assertNotEmitted(form.changed):
        form.set_values({"units": 7, "p": 0.25, "patience": 5, "unknown": 1})
    assert form.values()["units"] == 7 and form.values()["p"] == 0.25 and form.values()["patience"] == 5


def test_spin_box_clamps_to_the_param_range(form: ParamForm) -> None:
    form.field("units").setValue(10_000)
    assert form.values()["units"] == 4096


def test_text_edit_emits_once_when_committed(qtbot, form: ParamForm) -> None:
    line = form.field("name")
    line.setFocus()
    qtbot.keyClicks(line, "work")
    with qtbot.waitSignal(form.changed) as blocker:
        qtbot.keyClick(line, Qt.Key.Key_Return)
    assert blocker.args == ["name", "network"]


def test_optional_checkbox_enables_the_editor(qtbot, form: ParamForm) -> None:
    box = form.findChild(QCheckBox, "param_patience_enabled")
    assert not form.field("patience").isEnabled()
    with qtbot.waitSignal(form.changed) as blocker:
        box.setChecked(True)
    assert blocker.args == ["patience", 1]
    assert form.field("patience").isEnabled()
    form.field("patience").setValue(9)
    with qtbot.waitSignal(form.changed) as blocker:
        box.setChecked(False)
    assert blocker.args == ["patience", None]
    box.setChecked(True)
    assert form.values()["patience"] == 9  # switching back on restores the last value


def test_log_spin_box_steps_multiply_and_show_scientific(qtbot, form: ParamForm) -> None:
    box = form.field("lr")
    assert box.text() == "1e-3"
    box.stepBy(1)
    assert box.value() == pytest.approx(2e-3)
    box.stepBy(2)
    assert box.value() == pytest.approx(1e-2)
    box.stepBy(-4)
    assert box.value() == pytest.approx(5e-4)
    box.lineEdit().selectAll()
    qtbot.keyClicks(box.lineEdit(), "3e-5")
    with qtbot.waitSignal(form.changed) as blocker:
        qtbot.keyClick(box.lineEdit(), Qt.Key.Key_Return)
    assert blocker.args[1] == pytest.approx(3e-5)
    box.setValue(10.0)
    box.stepBy(1)
    assert box.value() == 10.0  # clamped at the maximum


def test_log_step_and_format_helpers() -> None:
    assert log_step(3e-4, up=True) == pytest.approx(5e-4)
    assert log_step(3e-4, up=False) == pytest.approx(2e-4)
    assert log_step(0.0, up=True) > 0
    assert [format_number(v) for v in (0.5, 64.0, 1e-5, 0.05)] == ["0.5", "64", "1e-5", "0.05"]


def test_error_marks_the_field_and_clears(form: ParamForm) -> None:
    form.show()
    form.set_error("units", "units must be at least 1")
    error = form.findChild(QLabel, "param_units_error")
    assert error is not None and error.isVisible() and "at least 1" in error.text()
    assert "d32f2f" in form.field("units").styleSheet()
    assert form.error() == "units must be at least 1"
    form.set_error("layers[0].units", "units is wrong")  # a dotted field finds its last part
    assert "d32f2f" in form.field("units").styleSheet()
    form.set_error("elsewhere", "the network is too deep")
    assert form.field("units").styleSheet() == ""
    assert form.error() == "the network is too deep"
    form.set_error(None, "")
    assert form.error() == "" and not error.isVisible()


def test_locked_form_disables_every_editor(form: ParamForm) -> None:
    form.set_locked(True)
    assert not any(form.field(p.name).isEnabled() for p in PARAMS)
    form.set_locked(False)
    assert form.field("units").isEnabled() and not form.field("patience").isEnabled()


def test_out_of_range_value_is_shown_not_clamped_until_edited(qtbot, form: ParamForm) -> None:
    form.set_values({"units": 0, "p": "not a number"})
    assert form.values()["units"] == 0 and form.values()["p"] == 0.5
    with qtbot.waitSignal(form.changed) as blocker:
        form.field("units").stepBy(1)
    assert blocker.args == ["units", 1]
    assert form.field("units").minimum() == 1  # back to the parameter's range


def test_browse_picks_a_folder_or_a_file_by_the_params_hint(qtbot, form: ParamForm, monkeypatch) -> None:
    assert wants_folder(PARAMS[6])
    assert not wants_folder(Param("path", "path", "", "The CSV file to read."))
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", staticmethod(lambda *args: "/data/images"))
    with qtbot.waitSignal(form.changed) as blocker:
        qtbot.mouseClick(form.findChild(QPushButton, "param_root_browse"), Qt.MouseButton.LeftButton)
    assert blocker.args == ["root", "/data/images"]
