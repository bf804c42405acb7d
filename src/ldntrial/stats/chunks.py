"""Run chunks of simulated trials one after another or in worker processes, reporting progress.

Power and validation both split their simulations into chunks with their own
seeds, so the figures do not depend on how many processes run them.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import TypeVar

__all__ = ["run_chunks"]

Task = TypeVar("Task")
Result = TypeVar("Result")


def run_chunks(
    work: Callable[[Task], Result],
    tasks: Sequence[Task],
    sizes: Sequence[int],
    workers: int,
    progress: Callable[[int, int], None],
) -> list[Result]:
    """``work(task)`` for every task, in order; ``progress(done, total)`` counts ``sizes``.

    With ``workers`` > 1 the tasks run in that many "spawn" processes (clean
    interpreters: no inherited locks or threads, as on every platform), so
    ``work`` must be a module-level function and the caller's script must
    guard its entry point with ``if __name__ == "__main__":``.
    """
    total, done, results = sum(sizes), 0, []
    if workers <= 1 or len(tasks) == 1:
        for task, size in zip(tasks, sizes, strict=True):
            results.append(work(task))
            done += size
            progress(done, total)
        return results
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        for size, result in zip(sizes, pool.map(work, tasks), strict=True):
            results.append(result)
            done += size
            progress(done, total)
    return results
