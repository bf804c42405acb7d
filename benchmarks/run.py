"""Benchmarks of the core, printed as a Markdown table (`make bench`).

Each row is the best of a few repeats. The "ratio" column divides by a
baseline measured in the same run on the same machine, the numpy floor: drawing
as many normal numbers as the 10,000-participant diary has rows and writing them
to Parquet, which no simulator of that trial can beat. Ratios travel between
machines better than seconds do.
"""

from __future__ import annotations

import platform
import shutil
import subprocess
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
from ldntrial.report import render_trial_report
from ldntrial.simulate import simulate_trial
from ldntrial.stats import analyze
from ldntrial.stats.daily_model import daily_frame, fit_daily_model

BIG = 10_000
GOAL_SECONDS = {
    "simulate crossover-2013, n = 10,000": 20.0,
    "analyze crossover-2013, n = 10,000 (every analysis)": 30.0,
}
LME4_SCRIPT = Path(__file__).with_name("lme4_fit.R")


def best_of(repeats: int, work: Callable[[], object]) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    # The 10,000-participant bundle and the lme4 input (about 100 MB) go when the run ends.
    with tempfile.TemporaryDirectory(prefix="ldntrial-bench-") as scratch:
        run_benchmarks(Path(scratch))


def run_benchmarks(folder: Path) -> None:
    protocol = load_protocol("crossover-2013")
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
    small = simulate_trial(protocol, n=31, seed=2)
    frame = daily_frame(big, "pain", protocol.comparison)

    def fit_mixed() -> object:
        # From the TrialData, as analyze() does: select the days, build the design, fit.
        return fit_daily_model(big)

    cases += [
        ("analyze crossover-2013, n = 31 (every analysis)", 3, lambda: analyze(small)),
        (f"analyze crossover-2013, n = {BIG:,} (every analysis)", 1, lambda: analyze(big)),
        (
            f"mixed model of daily pain from the trial, n = {BIG:,} ({len(frame):,} days)",
            3,
            fit_mixed,
        ),
        (
            "report crossover-2013, n = 31 (analyses, figures, HTML)",
            3,
            lambda: render_trial_report(small),
        ),
    ]
    save_bundle(big, folder / "big", overwrite=True)
    results = [(name, best_of(repeats, work)) for name, repeats, work in cases]
    lme4 = _time_lme4(frame, folder, fit_mixed())
    if lme4 is not None:
        results.append(lme4)
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
    if lme4 is not None:
        ours = dict(results)[
            f"mixed model of daily pain from the trial, n = {BIG:,} ({len(frame):,} days)"
        ]
        speedup = lme4[1] / ours
        print(f"\nlme4 / ldntrial for the same REML fit: {speedup:.1f}x (goal: at least 5x)")


def _time_lme4(frame: pd.DataFrame, folder: Path, ours) -> tuple[str, float] | None:
    """lme4 on the same data and model, where R and lme4 are installed; checks the estimates."""
    if shutil.which("Rscript") is None:
        print("R is not installed: the lme4 comparison is skipped (apt-get install r-cran-lme4)")
        return None
    path = folder / "pain.csv"
    frame.assign(treated=frame["treated"].astype(int)).to_csv(path, index=False)
    run = subprocess.run(
        ["Rscript", str(LME4_SCRIPT), str(path)], capture_output=True, text=True, check=False
    )
    if run.returncode != 0:
        print(f"lme4 comparison failed: {run.stderr.strip()[-300:]}")
        return None
    lines = dict(line.split(",", 1) for line in run.stdout.strip().splitlines())
    theirs = np.array([float(v) for k, v in lines.items() if k != "seconds"])
    gap = float(np.max(np.abs(theirs - ours.estimates["estimate"].to_numpy())))
    print(f"lme4 and ldntrial fixed effects differ by at most {gap:.2e}\n")
    return (f"lme4 (R) fitting the same mixed model, n = {BIG:,}", float(lines["seconds"]))


if __name__ == "__main__":
    main()
