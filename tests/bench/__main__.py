"""Runs the benchmarks: `make bench` (all) or `make bench ARGS="integrations"` (by name);
`--quick` (for example `make bench ARGS="table --quick"`) asks for shorter runs (BENCH_QUICK=1).

Each `tests/bench/bench_<name>.py` defines `async def main() -> None` that prints its figures,
as ratios to a baseline measured in the same run."""

from __future__ import annotations

import asyncio
import importlib
import os
import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    names = sorted(p.stem.removeprefix("bench_") for p in Path(__file__).parent.glob("bench_*.py"))
    flags = {arg for arg in argv if arg.startswith("--")}
    if flags - {"--quick"}:
        print(f"unknown option(s): {', '.join(sorted(flags - {'--quick'}))}; the only one is --quick")
        return 2
    if "--quick" in flags:
        os.environ["BENCH_QUICK"] = "1"
    chosen = [arg for arg in argv if not arg.startswith("--")] or names
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
