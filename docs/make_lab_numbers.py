"""Regenerate every number quoted in docs/lab/*.md by running the experiments the pages describe.

    python docs/make_lab_numbers.py                    # rewrite the pages' numbers in place
    python docs/make_lab_numbers.py --check            # change nothing; exit 1 naming each number that moved
    python docs/make_lab_numbers.py --only race probe  # only these sections

A page marks each quoted number as ``<!--n:key-->value<!--/n-->`` (a value may span lines: a table); the
sections in ``docs/lab_numbers.py`` compute the values, and any ``docs/make_*_numbers.py`` with ``PAGE`` and
``NUMBERS`` (the residual page's) is run as one more section. The whole run takes several minutes on two
cores; ``tests/core/test_lab_numbers.py`` regenerates the fast sections and a subset of the slow ones.
"""

from __future__ import annotations

import argparse
import importlib
import re
import sys
from collections.abc import Iterable
from pathlib import Path

DOCS = Path(__file__).resolve().parent
sys.path[:0] = [str(DOCS.parent), str(DOCS)]

from lab_numbers import SECTIONS, Section  # noqa: E402

LAB = DOCS / "lab"
MARK = re.compile(r"<!--n:(?P<key>[a-z0-9_]+)-->(?P<value>.*?)<!--/n-->", re.DOTALL)


def sections() -> dict[str, Section]:
    """This script's sections and, as one section each, the other ``make_*_numbers.py`` scripts."""
    found = dict(SECTIONS)
    for script in sorted(DOCS.glob("make_*_numbers.py")):
        if script.stem == Path(__file__).stem:
            continue
        module = importlib.import_module(script.stem)
        makers = list(module.NUMBERS.values())
        found[script.stem.removeprefix("make_").removesuffix("_numbers")] = Section(
            Path(module.PAGE).name, lambda makers=makers: {k: v for make in makers for k, v in make().items()},
            fast=False)
    return found


def marks(text: str) -> dict[str, str]:
    """The page's marked values by key."""
    return {m["key"]: m["value"] for m in MARK.finditer(text)}


def rewrite(text: str, values: dict[str, str]) -> str:
    """``text`` with every mark that has a value rewritten (the others are left as they are)."""
    return MARK.sub(lambda m: f"<!--n:{m['key']}-->{values.get(m['key'], m['value'])}<!--/n-->", text)


def differences(page: str, values: dict[str, str]) -> list[str]:
    """One line per marked number of ``page`` that differs from ``values``, or that no section makes."""
    shown = marks((LAB / page).read_text(encoding="utf-8"))
    lines = [f"{page}: {key} reads {shown[key]!r}, a fresh run gives {values[key]!r}"
             for key in shown if key in values and shown[key] != values[key]]
    return lines + [f"{page}: {key} is made by no section" for key in shown if key not in values]


def run(names: Iterable[str], check: bool) -> int:
    chosen = sections()
    unknown = sorted(set(names) - set(chosen))
    if unknown:
        raise SystemExit(f"unknown section {', '.join(unknown)}; choose from {', '.join(chosen)}")
    by_page: dict[str, dict[str, str]] = {}
    for name in names:
        print(f"running {name}...", flush=True)
        by_page.setdefault(chosen[name].page, {}).update(chosen[name].make())
    problems = []
    for page, values in by_page.items():
        if check:
            problems += differences(page, values)
            continue
        path = LAB / page
        path.write_text(rewrite(path.read_text(encoding="utf-8"), values), encoding="utf-8")
        print(f"wrote {path.relative_to(DOCS.parent)}")
    print("\n".join(problems) or ("every number reproduces" if check else "done"))
    return 1 if problems else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare with the pages; write nothing")
    parser.add_argument("--only", nargs="+", metavar="SECTION", help="run only these sections")
    args = parser.parse_args()
    sys.exit(run(args.only or list(sections()), args.check))


if __name__ == "__main__":
    main()
