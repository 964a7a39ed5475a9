"""Fuzz the loading and training path with many random projects and print what happened to them.

Every project either trains one step or is refused with a StudioError that says what to fix
(issue 16, point 5); anything else is counted as a failure and its first lines are shown.

    python benchmarks/fuzz.py [--examples 5000] [--seed 0]

The suite runs the same property on a few hundred derandomized examples (tests/core/test_fuzz.py).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import traceback
from collections import Counter
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hypothesis import HealthCheck, Phase, given, seed, settings

from tests.fuzzing import attempt, projects


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    outcomes: Counter[str] = Counter()
    failures: list[str] = []

    @seed(args.seed)
    @settings(max_examples=args.examples, deadline=None, database=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(projects())
    def run(data: dict) -> None:
        try:
            outcomes[attempt(data)] += 1
        except Exception as exc:  # the property's failures: counted and shown, the run goes on
            outcomes["FAILED"] += 1
            failures.append("".join(traceback.format_exception(exc)[-3:]).strip())

    started = time.monotonic()
    run()
    seconds = time.monotonic() - started
    total = sum(outcomes.values())
    print(f"{total:,} random projects in {seconds:.0f} s (seed {args.seed}):")
    for outcome, count in outcomes.most_common():
        print(f"  {outcome:<24} {count:>6,}  {count / total:6.1%}")
    for text in failures[:5]:
        print("\n" + text)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
