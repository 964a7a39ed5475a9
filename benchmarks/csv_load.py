"""How long a large CSV takes to load, and how much memory: 10,000 rows × 785 columns (an MNIST export).

Each load runs in a fresh interpreter so its peak memory is its own: the figure is the peak resident
size during the load minus the size before it (torch and numpy already imported).

    python benchmarks/csv_load.py [--rows 10000] [--columns 785] [--repeats 3] [--tree OTHER_CHECKOUT]

``--tree`` loads with another checkout's code (e.g. an older commit in a worktree) for a before/after pair.

Run ``uptime`` first: on a loaded machine the seconds mean little (the memory does not change).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]

_CHILD = """
import json, resource, sys, time
from studio.core.data.csv_file import load_csv
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start = time.perf_counter()
raw = load_csv({"path": sys.argv[1], "label_column": "label", "task": "classification"}, lambda f, m: None)
seconds = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"seconds": seconds, "mb": (peak - before) / 1024, "shape": list(raw.x.shape)}))
"""


def write_csv(path: Path, rows: int, columns: int) -> None:
    """Pixel-like integers 0-255 with the label first, as MNIST CSV exports have them."""
    rng = np.random.default_rng(0)
    data = rng.integers(0, 256, size=(rows, columns))
    data[:, 0] = rng.integers(0, 10, size=rows)
    header = ",".join(["label", *(f"pixel{i}" for i in range(columns - 1))])
    np.savetxt(path, data, fmt="%d", delimiter=",", header=header, comments="")


def load_once(path: Path, tree: Path) -> dict:
    proc = subprocess.run([sys.executable, "-c", _CHILD, str(path)], capture_output=True, text=True, cwd=tree,
                          env={"PYTHONPATH": str(tree), "OMP_NUM_THREADS": "1", "PATH": ""}, check=True)
    return json.loads(proc.stdout.splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--columns", type=int, default=785)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--tree", type=Path, default=ROOT, help="source tree to load with (default: this one)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "big.csv"
        write_csv(path, args.rows, args.columns)
        size = path.stat().st_size / 1e6
        runs = [load_once(path, args.tree.resolve()) for _ in range(args.repeats)]
    seconds = statistics.median(r["seconds"] for r in runs)
    memory = statistics.median(r["mb"] for r in runs)
    print(f"{args.rows:,} rows x {args.columns} columns ({size:.0f} MB of text): median {seconds:.2f} s, "
          f"peak memory +{memory:.0f} MB over {args.repeats} loads (each: "
          + ", ".join(f"{r['seconds']:.2f} s" for r in runs) + ")")


if __name__ == "__main__":
    main()
