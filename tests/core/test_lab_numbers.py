"""Every number marked in docs/lab/*.md is made by a section of docs/make_lab_numbers.py, and a fresh run
reproduces it: the fast sections whole, the slow ones (minutes) on a subset that is computed the same way."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[2] / "docs"
sys.path[:0] = [str(DOCS)]

import lab_numbers  # noqa: E402
import make_lab_numbers  # noqa: E402


def _page(name: str) -> str:
    return (DOCS / "lab" / name).read_text(encoding="utf-8")


def test_every_marked_number_belongs_to_the_section_of_its_page() -> None:
    sections = make_lab_numbers.sections()
    own = {section.page for section in lab_numbers.SECTIONS.values()}
    for page in sorted(p.name for p in (DOCS / "lab").glob("*.md")):
        keys = make_lab_numbers.marks(_page(page))
        if page not in own:  # a page made by another script (the residual page) or without numbers
            assert not keys or any(s.page == page for s in sections.values()), page
            continue
        for key in keys:
            name = key.split("_")[0]
            assert name in lab_numbers.SECTIONS and lab_numbers.SECTIONS[name].page == page, (page, key)


@pytest.mark.parametrize("name", [n for n, s in lab_numbers.SECTIONS.items() if s.fast])
def test_a_fresh_run_gives_the_numbers_on_the_page(name: str) -> None:
    section = lab_numbers.SECTIONS[name]
    values = section.make()
    assert make_lab_numbers.differences(section.page, values) == []
    assert set(make_lab_numbers.marks(_page(section.page))) == set(values)  # no number made and left unquoted


def _grid_cell(page: str, key: str, row: str, column: str) -> str:
    """A cell of a sweep table the page quotes (the command's output: columns split by two spaces or more)."""
    lines = [line for line in make_lab_numbers.marks(_page(page))[key].splitlines() if "  " in line]
    table = [re.split(r"\s{2,}", line.strip()) for line in lines]
    return next(cells for cells in table[1:] if cells[0] == row)[table[0].index(column)]


def test_a_cell_of_each_depth_grid_reproduces() -> None:
    for name, preset in lab_numbers.DEPTH_PRESETS.items():
        quoted = _grid_cell("depth-vs-lr.md", f"depth_{name}_table", "2", "lr=0.1")
        assert lab_numbers.depth_cell(preset, 2, 0.1) == quoted


def test_the_curve_fit_starts_and_the_deep_chain_grows_as_the_pages_say() -> None:
    first = lab_numbers.curve_fit(epochs=1)
    assert first["presets_curve_start"] == make_lab_numbers.marks(_page("presets.md"))["presets_curve_start"]
    chain = lab_numbers.probe_chain()
    assert chain.items() <= make_lab_numbers.marks(_page("probe.md")).items()


def test_rewrite_fills_marks_and_check_names_what_moved(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = "loss <!--n:race_a-->0.1<!--/n--> and\n<!--n:race_t-->\nold\n<!--/n--> end"
    assert make_lab_numbers.rewrite(text, {"race_a": "0.2"}) == text.replace(">0.1<", ">0.2<")
    (tmp_path / "race.md").write_text(text, encoding="utf-8")
    monkeypatch.setattr(make_lab_numbers, "LAB", tmp_path)
    assert make_lab_numbers.differences("race.md", {"race_a": "0.1", "race_t": "\nold\n"}) == []
    assert make_lab_numbers.differences("race.md", {"race_a": "0.2"}) == [
        "race.md: race_a reads '0.1', a fresh run gives '0.2'", "race.md: race_t is made by no section"]
