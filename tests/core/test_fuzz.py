"""Property-based fuzzing (issue 16, point 5): every random project trains one step or is refused with a
StudioError that says what to fix; nothing else escapes, nothing hangs, memory stays bounded.

A few hundred derandomized examples here; ``python benchmarks/fuzz.py`` runs 5,000 and prints the counts.
"""

from __future__ import annotations

import signal
from collections import Counter

import psutil
import pytest
from hypothesis import HealthCheck, given, settings

from tests.fuzzing import attempt, projects

EXAMPLES = 200
EXAMPLE_SECONDS = 60  # one example (load, build, one step) far beyond this is a hang
MEMORY_GROWTH = 2 * 10**9  # resident memory may not grow more than this over the run

outcomes: Counter[str] = Counter()


def _hang(signum: int, frame: object) -> None:
    raise TimeoutError(f"one example took more than {EXAMPLE_SECONDS} s")


@settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(projects())
def check_one(data: dict) -> None:
    previous = signal.signal(signal.SIGALRM, _hang)
    signal.alarm(EXAMPLE_SECONDS)
    try:
        outcomes[attempt(data)] += 1
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@pytest.mark.timeout(900)  # about 30 s on a quiet machine; minutes while others load it
def test_random_projects_train_or_are_refused_clearly():
    before = psutil.Process().memory_info().rss
    outcomes.clear()
    check_one()
    assert psutil.Process().memory_info().rss - before < MEMORY_GROWTH
    assert outcomes["trained"] >= 10 and sum(outcomes.values()) >= EXAMPLES, outcomes
    assert outcomes["InvalidProjectError"] >= 10, outcomes
