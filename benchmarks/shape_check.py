"""How long the editor's shape check takes for a network of 100 residual blocks (goal: under 100 ms, so
typing in the properties form stays fluid).

The check runs every row's real module on the ``meta`` device; rows that repeat (the same type, settings
and input shape) are measured once and then come from a cache. Three figures, each the median of
``--repeats`` runs:

- *warm*: the same network checked again (what the editor does after a keystroke elsewhere);
- *one row changed*: the last Linear's outputs changed between checks (typing in the form);
- *cold*: the cache emptied first (a network whose every kind of row is new).

The first check of a session also imports torch's meta-device machinery (seconds on a loaded machine); a
warm-up check of one row pays for it before anything is timed.

    python benchmarks/shape_check.py [--blocks 100] [--repeats 9]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

from studio.core import shapes
from studio.core.project import LayerSpec, ModelSpec
from studio.core.shapes import check_model

INPUT = (3, 32, 32)


def network(blocks: int) -> ModelSpec:
    """A stem, ``blocks`` residual blocks (two convolutions with batch norm each, ReLU after the sum), a head."""
    def conv(channels: int) -> LayerSpec:
        return LayerSpec("Conv2d", {"out_channels": channels, "kernel_size": 3, "padding": 1})

    block = [LayerSpec("Residual", layers=[conv(16), LayerSpec("BatchNorm2d"), LayerSpec("ReLU"), conv(16),
                                           LayerSpec("BatchNorm2d")]), LayerSpec("ReLU")]
    rows = [conv(16), LayerSpec("ReLU")]
    for _ in range(blocks):
        rows += [LayerSpec(spec.type, dict(spec.params), layers=[LayerSpec(c.type, dict(c.params))
                                                                  for c in spec.layers]) for spec in block]
    return ModelSpec(rows + [LayerSpec("AdaptiveAvgPool2d"), LayerSpec("Flatten"),
                             LayerSpec("Linear", {"out_features": 10})])


def timed(check: callable) -> float:
    start = time.perf_counter()
    report = check()
    elapsed = (time.perf_counter() - start) * 1000
    assert report.ok, report.error
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--blocks", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=9)
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.2f}")
    check_model(ModelSpec([LayerSpec("ReLU")]), (4,), None)  # warm-up: torch's meta-device imports
    spec = network(args.blocks)
    rows = sum(1 + len(row.layers) for row in spec.layers)
    cold, warm, typed = [], [], []
    for repeat in range(args.repeats):
        shapes._measure_cached.cache_clear()
        shapes._own_cached.cache_clear()
        cold.append(timed(lambda: check_model(spec, INPUT, None)))
        warm.append(timed(lambda: check_model(spec, INPUT, None)))
        spec.layers[-1].params["out_features"] = 10 + repeat % 2 + 1  # a keystroke in the last row's form
        typed.append(timed(lambda: check_model(spec, INPUT, None)))
    print(f"{args.blocks} residual blocks ({rows} rows): warm {statistics.median(warm):.1f} ms, "
          f"one row changed {statistics.median(typed):.1f} ms, cold {statistics.median(cold):.1f} ms "
          f"(medians of {args.repeats}; goal < 100 ms)")
    print(f"load average at the end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
