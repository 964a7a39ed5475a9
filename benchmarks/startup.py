"""How fast does Training Studio start?

Starts the app as a user does, in a fresh interpreter each time (``python -m studio``), and takes
the median of several starts of each:

- the window (offscreen): from the spawn to the first window shown, first painted, and handling
  its first queued event after that (interactive), then to the full window's first paint (ready:
  torch imported in the worker thread, editors filled, shapes checked), with the moment the import
  ended (prepared), and the longest stall of the event loop from the first paint to ready and
  during the import alone, reported by the hidden ``STUDIO_EXIT_WHEN_READY`` hook, which then quits;
- ``--help``, ``presets`` and ``schema``: the whole run, spawn to exit (they import no torch).

Also prints the import times of the window's biggest dependencies (``python -X importtime``), to
show where the start goes. Timing on a shared machine is noisy: it prints the load average first.

    python benchmarks/startup.py [--repeats 5]

Goals: the window interactive within 1.5 s (torch not yet imported); each light command under 1 s.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WINDOW_GOAL_S = 1.5
STAGES = ("shown", "painted", "interactive", "prepared", "ready")
COMMAND_GOAL_S = 1.0
COMMANDS = (["--help"], ["presets"], ["schema"])
IMPORTS = ("studio.ui.main_window", "torch", "PySide6", "pyqtgraph", "numpy", "sklearn")


def _env(settings: str) -> dict[str, str]:
    # Settings (recent files, geometry) go to a scratch folder; the tree under test comes first.
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    return {**os.environ, "QT_QPA_PLATFORM": "offscreen", "STUDIO_EXIT_WHEN_READY": "1",
            "XDG_CONFIG_HOME": settings, "PYTHONPATH": path}


def window_start(env: dict[str, str]) -> dict[str, float]:
    """Seconds from spawn to each of :data:`STAGES`, and the longest stall, for one start."""
    spawned = time.time()
    proc = subprocess.run([sys.executable, "-m", "studio"], capture_output=True, text=True, env=env, timeout=300,
                          cwd=ROOT)
    if proc.returncode != 0:
        raise SystemExit(f"the window did not start:\n{proc.stderr}")
    report = json.loads(next(line for line in proc.stderr.splitlines() if line.startswith("{")))
    if report["torch_at_first_paint"]:
        raise SystemExit("torch was imported before the first window painted")
    return {**{key: report[key] - spawned for key in STAGES}, "longest stall": report["longest_stall"],
            "stall importing": report["stall_while_importing"]}


def command_time(args: list[str], env: dict[str, str]) -> float:
    """Seconds from spawn to exit of ``studio ARGS``."""
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "studio", *args], capture_output=True, env=env, timeout=300, check=True,
                   cwd=ROOT)
    return time.perf_counter() - start


def import_times(env: dict[str, str]) -> dict[str, float]:
    """Cumulative import seconds of the window's module and its biggest dependencies."""
    proc = subprocess.run([sys.executable, "-X", "importtime", "-c", "import studio.ui.main_window"],
                          capture_output=True, text=True, env=env, timeout=300, cwd=ROOT)
    times: dict[str, float] = {}
    for line in proc.stderr.splitlines():
        match = re.match(r"import time:\s+\d+ \|\s+(\d+) \|( *)(\S+)", line)
        if match and match.group(3) in IMPORTS and match.group(3) not in times:
            times[match.group(3)] = int(match.group(1)) / 1e6
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="starts of each kind (median reported)")
    args = parser.parse_args()
    print(f"load average (1, 5, 15 min): {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory() as settings:
        env = _env(settings)
        starts = [window_start(env) for _ in range(args.repeats)]
        print(f"\nwindow, median of {args.repeats} starts (goal: interactive within {WINDOW_GOAL_S} s):")
        for key in (*STAGES, "longest stall", "stall importing"):
            values = [start[key] for start in starts]
            print(f"  {key:<12} {statistics.median(values):6.2f} s   (each: {', '.join(f'{v:.2f}' for v in values)})")
        print(f"\ncommands, median of {args.repeats} runs, spawn to exit (goal: under {COMMAND_GOAL_S} s):")
        for command in COMMANDS:
            values = [command_time(command, env) for _ in range(args.repeats)]
            print(f"  studio {' '.join(command):<10} {statistics.median(values):6.2f} s")
        print("\nimports of the window's module (cumulative, one run; nested ones count inside their parent):")
        for name, seconds in sorted(import_times(env).items(), key=lambda item: -item[1]):
            print(f"  {name:<18} {seconds:6.2f} s")


if __name__ == "__main__":
    main()
