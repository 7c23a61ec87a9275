"""Hostile input: 100 KB of each pattern tests/extract/test_hostile_input.py grows (the
backtracking, nesting and wall-of-numbers cases), timed on one core.

The test bounds growth only (10x the input, at most 20x the time); the speed itself is
measured here. Prints one JSON line: the slowest case and its CPU time per call; target
100 KB under 250 ms each.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]

from tests.extract.test_hostile_input import CASES  # noqa: E402
from tests.extract.test_hostile_input import _cpu  # noqa: E402

TARGET_MS = 250.0
BIG = 100_000  # bytes of each pattern


def main() -> None:
    times = {name: _cpu(call, make(BIG)) * 1000 for name, (call, make) in CASES.items()}
    slowest = max(times, key=lambda name: times[name])
    print(
        json.dumps(
            {
                "bench": "hostile",
                "input_bytes": BIG,
                "cases": len(times),
                "slowest": slowest,
                "slowest_ms": round(times[slowest], 1),
                "over_target": sorted(n for n, ms in times.items() if ms > TARGET_MS),
                "target_ms": TARGET_MS,
                "met": times[slowest] <= TARGET_MS,
            }
        )
    )


if __name__ == "__main__":
    main()
