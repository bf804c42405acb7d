"""Run chunks of simulated trials one after another, in worker processes or on a Dask cluster.

Power and validation both split their simulations into chunks with their own
seeds, so the figures do not depend on how many processes, or which machines,
run them.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import TypeVar

from ldntrial.errors import AnalysisError

__all__ = ["run_chunks"]

Task = TypeVar("Task")
Result = TypeVar("Result")

CONNECT_SECONDS = 20
"""How long to wait for a Dask scheduler before saying it cannot be reached."""


def run_chunks(
    work: Callable[[Task], Result],
    tasks: Sequence[Task],
    sizes: Sequence[int],
    workers: int,
    progress: Callable[[int, int], None],
    *,
    dask_scheduler: str | None = None,
) -> list[Result]:
    """``work(task)`` for every task, in order; ``progress(done, total)`` counts ``sizes``.

    With ``workers`` > 1 the tasks run in that many "spawn" processes (clean
    interpreters: no inherited locks or threads, as on every platform), so
    ``work`` must be a module-level function and the caller's script must
    guard its entry point with ``if __name__ == "__main__":``. With
    ``dask_scheduler`` (an address such as ``tcp://10.0.0.5:8786``) they run
    on that existing Dask cluster instead, whose workers need ldntrial
    installed; ``workers`` is then the cluster's business.
    """
    if dask_scheduler is not None:
        return _on_dask(work, tasks, sizes, progress, dask_scheduler)
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


def _on_dask(
    work: Callable[[Task], Result],
    tasks: Sequence[Task],
    sizes: Sequence[int],
    progress: Callable[[int, int], None],
    address: str,
) -> list[Result]:
    """The tasks as Dask futures (impure: each is run once); results in the tasks' order."""
    try:
        from distributed import Client, as_completed
    except ImportError:
        raise AnalysisError(
            "dask_scheduler: Dask is not installed; pip install 'ldntrial[cluster]'"
        ) from None
    try:
        client = Client(address, timeout=CONNECT_SECONDS)
    except (OSError, TimeoutError, ValueError) as error:
        raise AnalysisError(
            f"dask_scheduler: no Dask scheduler answered at {address!r} within "
            f"{CONNECT_SECONDS} s ({error})"
        ) from None
    with client:
        futures = client.map(work, tasks, pure=False)
        size_of = {future.key: size for future, size in zip(futures, sizes, strict=True)}
        total, done = sum(sizes), 0
        for finished in as_completed(futures):
            done += size_of[finished.key]
            progress(done, total)
        return list(client.gather(futures))
