"""The command line's side of scaling out: the device list, and launches refused with one line."""

from __future__ import annotations

import json

from tests.core.test_cli import run_cli


def test_devices_lists_the_cpu_and_says_why_a_gpu_is_absent() -> None:
    proc = run_cli("devices", "--json")
    assert proc.returncode == 0, proc.stderr
    devices = {d["name"].split(":")[0]: d for d in map(json.loads, proc.stdout.splitlines())}
    assert devices["cpu"]["available"] and devices["cpu"]["label"].startswith("CPU")
    assert set(devices) == {"cpu", "cuda", "mps"}
    for absent in (d for d in devices.values() if not d["available"]):
        assert absent["reason"]
