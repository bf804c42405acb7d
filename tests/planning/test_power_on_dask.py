"""Power on a Dask cluster: the same figures as in one process, whatever the workers.

A real local cluster (scheduler and worker processes on this machine, talking
TCP), as a user's cluster would run the chunks.
"""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest
from distributed import LocalCluster

from ldntrial.errors import AnalysisError
from ldntrial.planning.power import estimate_power
from ldntrial.stats import chunks

SETTINGS = {"sizes": [8, 16], "sims": 60, "seed": 5}


@pytest.fixture(scope="module")
def scheduler() -> str:
    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        yield cluster.scheduler_address


@pytest.mark.parametrize("protocol_id", ["crossover-2013", "nof1"])
def test_a_dask_cluster_gives_the_figures_of_one_process(protocol_id: str, scheduler: str) -> None:
    settings = SETTINGS | ({"sizes": [2, 3]} if protocol_id == "nof1" else {})
    here = estimate_power(protocol_id, **settings, workers=1)
    seen: list[tuple[int, int]] = []
    there = estimate_power(
        protocol_id,
        **settings,
        dask_scheduler=scheduler,
        progress=lambda done, total: seen.append((done, total)),
    )
    pd.testing.assert_frame_equal(there.table, here.table)
    assert there.to_dict() == here.to_dict()
    total = settings["sims"] * len(settings["sizes"])
    assert seen[-1] == (total, total)
    assert [done for done, _ in seen] == sorted(done for done, _ in seen)


def test_an_address_where_no_scheduler_answers_is_named(monkeypatch) -> None:
    monkeypatch.setattr(chunks, "CONNECT_SECONDS", 2)
    with pytest.raises(
        AnalysisError, match=re.escape("no Dask scheduler answered at 'tcp://127.0.0.1:9'")
    ):
        estimate_power("crossover-2013", **SETTINGS, dask_scheduler="tcp://127.0.0.1:9")


def test_the_command_line_runs_on_the_cluster_it_is_given(scheduler: str) -> None:
    from typer.testing import CliRunner

    from ldntrial.cli.main import app

    arguments = ["power", "crossover-2013", "--n", "8,16", "--sims", "60", "--seed", "5"]
    there = CliRunner().invoke(app, [*arguments, "--dask-scheduler", scheduler, "--json"])
    assert there.exit_code == 0, there.output
    here = estimate_power("crossover-2013", **SETTINGS, workers=1)
    assert json.loads(there.stdout) == json.loads(json.dumps(here.to_dict()))
