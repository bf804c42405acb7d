"""Power at scale (`make bench`): 1,000 simulated trials, in processes and on a Dask cluster,
and the cost of one simulated N-of-1 patient.

Prints a Markdown table. The baseline, measured in the same run, is the way
power was computed before trials were simulated as arrays: a TrialData (its
tables built and validated) and the full primary analysis for each trial, timed
on 100 trials and scaled to 1,000. The Dask row runs the same call on a local
cluster (a scheduler and worker processes talking TCP, as on several machines)
and says whether its table equals the in-process one, as it must.

The N-of-1 table prices one simulated patient of the built-in ``nof1`` design
(3 pairs of blocks) simulated and answered, as the power of an N-of-1 design
needs her: against the baseline of a TrialData and her full answer (paragraph,
priors, tables), in the same run.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable

import numpy as np
from distributed import LocalCluster

from ldntrial.planning.power import PowerResult, estimate_power
from ldntrial.simulate import simulate_trial
from ldntrial.stats.nof1 import answer_every_participant
from ldntrial.stats.primary import analyse_endpoint, primary_term

PROTOCOL = "crossover-2013"
N = 31
SIMS = 1_000
CORES = os.cpu_count() or 1
GOAL = 10.0
NOF1_PATIENTS = 400
NOF1_GOAL_MS = 2.0


def timed(work: Callable[[], object]) -> tuple[float, object]:
    start = time.perf_counter()
    result = work()
    return time.perf_counter() - start, result


def one_table_per_trial(trials: int) -> None:
    """The old path: simulate a TrialData and run the full primary analysis, trial by trial."""
    seeds = np.random.default_rng(1).integers(2**62, size=trials)
    for seed in seeds:
        trial = simulate_trial(PROTOCOL, n=N, seed=int(seed), tables=("diary",))
        analyse_endpoint(trial).term(primary_term(trial.protocol))


def power(**where: object) -> PowerResult:
    return estimate_power(PROTOCOL, sizes=[N], sims=SIMS, seed=1, **where)


def main() -> None:
    estimate_power(PROTOCOL, sizes=[N], sims=25, seed=1)  # warm the imports and caches
    old, _ = timed(lambda: one_table_per_trial(100))
    old *= SIMS / 100
    one, here = timed(lambda: power(workers=1))
    many, _ = timed(lambda: power(workers=CORES))
    with LocalCluster(
        n_workers=CORES, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        power(dask_scheduler=cluster.scheduler_address)  # the workers import ldntrial once
        on_dask, there = timed(lambda: power(dask_scheduler=cluster.scheduler_address))
    same = there.table.equals(here.table)
    print(f"\npower of {PROTOCOL}, n = {N}, {SIMS:,} simulated trials, primary analysis\n")
    print("| how | seconds | ratio to baseline | goal |")
    print("|---|---:|---:|---|")
    rows = [
        ("baseline: a TrialData and the full analysis per trial, 1 process", old, ""),
        ("trials as arrays, analysed in batches, 1 process", one, _goal(one)),
        (f"the same, {CORES} processes", many, _goal(many)),
        (
            f"the same on a local Dask cluster ({CORES} workers)",
            on_dask,
            f"identical to 1 process: {'yes' if same else 'NO'}",
        ),
    ]
    for name, seconds, goal in rows:
        print(f"| {name} | {seconds:.2f} | {seconds / old:.2f} | {goal} |")
    print(f"\npower {here.table['power'].iloc[0]:.3f} (every row the same table: {same})")
    nof1_table()


def nof1_table() -> None:
    old, _ = timed(
        lambda: answer_every_participant(simulate_trial("nof1", n=50, seed=2, tables=("diary",)))
    )
    old_ms = old / 50 * 1000
    new, _ = timed(
        lambda: estimate_power("nof1", sizes=[3], sims=NOF1_PATIENTS, seed=1, workers=1)
    )
    new_ms = new / NOF1_PATIENTS * 1000
    print("\none simulated N-of-1 patient (nof1, 3 pairs), simulated and answered\n")
    print("| how | ms per patient | ratio to baseline | goal |")
    print("|---|---:|---:|---|")
    print(f"| baseline: a TrialData and her full answer | {old_ms:.1f} | 1.00 | |")
    verdict = "met" if new_ms <= NOF1_GOAL_MS else "MISSED"
    print(
        f"| patients as arrays, answered together ({NOF1_PATIENTS} in one power run, "
        f"1 process) | {new_ms:.2f} | {new_ms / old_ms:.2f} | <= {NOF1_GOAL_MS:g} ms: {verdict} |"
    )


def _goal(seconds: float) -> str:
    return f"<= {GOAL:g} s: {'met' if seconds <= GOAL else 'MISSED'}"


if __name__ == "__main__":
    main()
