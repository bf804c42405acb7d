"""Benchmarks of the core, printed as a Markdown table (`make bench`).

Each row is the best of a few repeats. The "ratio" column divides by a
baseline measured in the same run on the same machine, the numpy floor: drawing
as many normal numbers as the 10,000-participant diary has rows and writing them
to Parquet, which no simulator of that trial can beat. Ratios travel between
machines better than seconds do.
"""

from __future__ import annotations

import platform
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from ldntrial.data import load_bundle, save_bundle
from ldntrial.protocol.kits import prepare_kits
from ldntrial.protocol.loader import load_protocol
from ldntrial.protocol.randomisation import allocation_list
from ldntrial.protocol.schedule import build_schedule
from ldntrial.simulate import simulate_trial

BIG = 10_000
GOAL_SECONDS = {"simulate crossover-2013, n = 10,000": 20.0}


def best_of(repeats: int, work: Callable[[], object]) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    protocol = load_protocol("crossover-2013")
    folder = Path(tempfile.mkdtemp(prefix="ldntrial-bench-"))
    big = simulate_trial(protocol, n=BIG, seed=1)  # warm-up, and the data to save and load
    rows = len(big.diary)

    def numpy_floor() -> None:
        values = np.random.default_rng(0).standard_normal(rows)
        pd.DataFrame({"value": values}).to_parquet(folder / "floor.parquet")

    allocations = allocation_list(protocol, n=BIG, seed=1)
    cases: list[tuple[str, int, Callable[[], object]]] = [
        ("baseline: numpy floor (normal draws + Parquet, same rows)", 3, numpy_floor),
        ("simulate crossover-2013, n = 31", 5, lambda: simulate_trial(protocol, n=31, seed=2)),
        (
            f"simulate crossover-2013, n = {BIG:,}",
            2,
            lambda: simulate_trial(protocol, n=BIG, seed=3),
        ),
        (
            f"save bundle, n = {BIG:,} (Parquet, checksums)",
            2,
            lambda: save_bundle(big, folder / "big", overwrite=True),
        ),
        (f"load bundle, n = {BIG:,} (verify, validate)", 2, lambda: load_bundle(folder / "big")),
        (f"allocation list, n = {BIG:,}", 3, lambda: allocation_list(protocol, n=BIG, seed=4)),
        (
            f"kit list, n = {BIG:,} ({BIG * 8:,} kits)",
            2,
            lambda: prepare_kits(protocol, allocations, seed=5),
        ),
        (
            "one participant's calendar",
            20,
            lambda: build_schedule(
                protocol,
                sequence="ldn-first",
                enrolled_on=date(2026, 3, 1),
                timezone="America/Los_Angeles",
            ),
        ),
    ]
    save_bundle(big, folder / "big", overwrite=True)
    results = [(name, best_of(repeats, work)) for name, repeats, work in cases]
    floor = results[0][1]
    print(
        f"ldntrial core benchmarks: Python {sys.version.split()[0]}, {platform.machine()}, "
        f"{rows:,} diary rows at n = {BIG:,}\n"
    )
    print("| what | seconds | ratio to baseline | goal |")
    print("|---|---:|---:|---|")
    for name, seconds in results:
        goal = GOAL_SECONDS.get(name)
        verdict = "" if goal is None else f"< {goal:g} s: {'met' if seconds < goal else 'MISSED'}"
        print(f"| {name} | {seconds:.3f} | {seconds / floor:.1f} | {verdict} |")


if __name__ == "__main__":
    main()
