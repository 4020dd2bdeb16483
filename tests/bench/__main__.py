"""Runs the benchmarks: `make bench` (all) or `make bench ARGS="integrations"` (by name).

Each `tests/bench/bench_<name>.py` defines `async def main() -> None` that prints its figures,
as ratios to a baseline measured in the same run."""

from __future__ import annotations

import asyncio
import importlib
import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    names = sorted(p.stem.removeprefix("bench_") for p in Path(__file__).parent.glob("bench_*.py"))
    chosen = argv or names
    unknown = sorted(set(chosen) - set(names))
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; choose from {', '.join(names)}")
        return 2
    for name in chosen:
        print(f"== {name}")
        module = importlib.import_module(f"tests.bench.bench_{name}")
        asyncio.run(module.main())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
