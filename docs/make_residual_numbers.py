"""Regenerate the numbers quoted in docs/lab/residual.md by running the experiments it describes.

    python docs/make_residual_numbers.py          # rewrite the page's numbers in place
    python docs/make_residual_numbers.py --check  # only print them

The page marks every quoted number as ``<!--n:key-->value<!--/n-->``; this script computes each key and
rewrites the value between the marks, so the prose never drifts from what the code does. ``NUMBERS`` maps
each experiment to the keys it fills: a general ``make_lab_numbers.py`` can import it as one section among
others. CIFAR-10 runs only when its files are in the data folder; otherwise its keys read "not run".
Takes a few minutes on two CPU cores (the CIFAR-10 part much longer).
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from studio.core.data import prepare_data  # noqa: E402
from studio.core.engine import Trainer  # noqa: E402
from studio.core.errors import DatasetError  # noqa: E402
from studio.core.events import LayerStats  # noqa: E402
from studio.core.lab.compare import PairResult, compare  # noqa: E402
from studio.core.lab.depth import depth_profile  # noqa: E402
from studio.core.presets import load_preset  # noqa: E402
from studio.core.project import LayerSpec, Project  # noqa: E402

PAGE = ROOT / "docs" / "lab" / "residual.md"
MARK = re.compile(r"<!--n:(?P<key>[a-z0-9_]+)-->(?P<value>.*?)<!--/n-->")
CIFAR_EPOCHS = 5


def _loss(value: float) -> str:
    return f"{value:.3f}"


def _sci(value: float) -> str:
    return f"{value:.1e}" if not 1e-2 <= abs(value) < 1e3 else f"{value:.3g}"


def _pair(project: Project) -> tuple[PairResult, dict[str, list[LayerStats]]]:
    stats: dict[str, list[LayerStats]] = defaultdict(list)

    def keep(tag: str, event: object) -> None:
        if isinstance(event, LayerStats):
            stats[tag].append(event)

    return compare(project, "shortcuts", data=prepare_data(project.data), on_event=keep), stats


def digits() -> dict[str, str]:
    """The lesson as shipped: the 22-layer plain preset and the same depth with shortcuts."""
    result, stats = _pair(load_preset("residual-depth"))
    values: dict[str, str] = {"epochs": str(len(result.a.epochs))}
    for tag, run in (("plain", result.a), ("res", result.b)):
        losses = [e.train_loss for e in run.epochs]
        profile, start = depth_profile(stats[run.tag]), depth_profile(stats[run.tag][:1], last=1)
        values |= {
            f"{tag}_loss_1": _loss(losses[0]), f"{tag}_loss_end": _loss(losses[-1]),
            f"{tag}_val_acc": f"{run.final.val_acc:.1%}",
            f"{tag}_grad_first": _sci(float(profile.grad_norm[0])),
            f"{tag}_grad_last": _sci(float(profile.grad_norm[-1])),
            f"{tag}_ratio": _sci(profile.vanishing), f"{tag}_ratio_start": _sci(start.vanishing),
            f"{tag}_weight_rows": str(len(profile.names)),
        }
    return values


def _he_plain(depth: int) -> Project:
    """The preset with batch norm after each hidden Linear and He initialisation: He et al.'s plain setting."""
    project = load_preset("residual-depth")
    repeat = project.model.layers[2]
    repeat.params["times"] = depth
    repeat.layers.insert(1, LayerSpec("BatchNorm1d"))
    project.model.init = "kaiming_normal"
    project.optimizer.params = {"lr": 0.05, "momentum": 0.9}
    project.training.epochs = 5
    return project


def degradation() -> dict[str, str]:
    """Deeper plain networks train worse even with batch norm and He initialisation; shortcuts do not."""
    shallow = Trainer(_he_plain(6)).fit()
    deep, stats = _pair(_he_plain(30))
    return {
        "deg_epochs": str(len(shallow.history)),
        "deg_shallow": _loss(shallow.history[-1].train_loss),
        "deg_plain": _loss(deep.a.final.train_loss),
        "deg_res": _loss(deep.b.final.train_loss),
        "deg_plain_ratio": _sci(depth_profile(stats["A"]).vanishing),
    }


def cifar() -> dict[str, str]:
    """ResNet-20 against the same 20 layers without shortcuts, when the CIFAR-10 files are present."""
    project = load_preset("resnet20-cifar10")
    project.training.epochs = CIFAR_EPOCHS
    try:
        result, _ = _pair(project)
    except DatasetError:
        return {"cifar_epochs": str(CIFAR_EPOCHS),
                **{key: "not run (no CIFAR-10 files)" for key in ("cifar_res", "cifar_plain")}}
    return {  # run A is the preset (ResNet-20), B the same layers unwrapped
        "cifar_epochs": str(CIFAR_EPOCHS),
        "cifar_res": f"{_loss(result.a.final.train_loss)} (validation {result.a.final.val_acc:.1%})",
        "cifar_plain": f"{_loss(result.b.final.train_loss)} (validation {result.b.final.val_acc:.1%})",
    }


NUMBERS: dict[str, Callable[[], dict[str, str]]] = {"digits": digits, "degradation": degradation, "cifar": cifar}


def rewrite(text: str, values: dict[str, str]) -> str:
    """``text`` with every marked number replaced; a mark without a value is an error."""
    missing = sorted({m["key"] for m in MARK.finditer(text)} - set(values))
    if missing:
        raise SystemExit(f"no value for {', '.join(missing)}")
    return MARK.sub(lambda m: f"<!--n:{m['key']}-->{values[m['key']]}<!--/n-->", text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="print the numbers, leave the page alone")
    args = parser.parse_args()
    values: dict[str, str] = {}
    for name, section in NUMBERS.items():
        print(f"running {name}...", flush=True)
        values |= section()
    for key, value in sorted(values.items()):
        print(f"{key:>18}: {value}")
    if not args.check:
        PAGE.write_text(rewrite(PAGE.read_text(encoding="utf-8"), values), encoding="utf-8")
        print(f"wrote {PAGE}")


if __name__ == "__main__":
    main()
