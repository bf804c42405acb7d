"""Stata, SPSS and SAS exports: every table opens with its labels and reads as the data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat
import pytest

from ldntrial.data.tables import TABLES
from ldntrial.interop.export import EXPORT_FILE, export_trial
from ldntrial.interop.stats_files import STATS_FORMATS
from ldntrial.protocol.loader import builtin_protocol_ids
from ldntrial.simulate import simulate_trial

READERS = {"stata": pyreadstat.read_dta, "spss": pyreadstat.read_sav, "sas": pyreadstat.read_xport}


@pytest.mark.parametrize("protocol", builtin_protocol_ids())
@pytest.mark.parametrize("format", STATS_FORMATS)
def test_every_table_reads_back_as_the_data_with_its_labels(
    protocol: str, format: str, tmp_path: Path
) -> None:
    trial = simulate_trial(protocol, n=6, seed=11)
    out = export_trial(trial, tmp_path / "out", format=format, study="s", identified=True).path
    assert (out / EXPORT_FILE).exists() and (out / "protocol.toml").exists()
    for name, table in trial.tables().items():
        frame, meta = READERS[format](str(out / f"{name}{STATS_FORMATS[format]}"))
        assert list(frame.columns) == [column.name for column in TABLES[name]]
        assert meta.column_labels[0].startswith("Pseudonymous participant code")
        assert len(frame) == len(table)
        if not len(table):
            continue
        for column in TABLES[name]:
            shown = frame[column.name]
            labels = meta.variable_value_labels.get(column.name)
            if labels is not None:
                shown = shown.map(labels)
            _assert_same(table[column.name], shown, column.kind, f"{name}.{column.name}")


def test_stata_and_spss_code_text_with_labels_and_sas_keeps_text(tmp_path: Path) -> None:
    trial = simulate_trial("crossover-2013", n=4, seed=2)
    items = [item.id for item in trial.protocol.diary.items]
    for format in ("stata", "spss"):
        out = export_trial(trial, tmp_path / format, format=format, study="s", identified=True)
        suffix = STATS_FORMATS[format]
        frame, meta = READERS[format](str(out.path / f"diary{suffix}"))
        assert meta.variable_value_labels["item"] == dict(enumerate(items, start=1))
        assert set(frame["item"]) <= set(range(1, len(items) + 1))
        _, people = READERS[format](str(out.path / f"participants{suffix}"))
        assert people.column_labels[3] == "Age at enrolment [a]"
    sas = export_trial(trial, tmp_path / "sas", format="sas", study="s", identified=True)
    frame, _ = pyreadstat.read_xport(str(sas.path / "diary.xpt"))
    assert set(frame["item"]) == set(items)


def _assert_same(expected: pd.Series, shown: pd.Series, kind: str, where: str) -> None:
    if kind in ("int", "float"):
        np.testing.assert_allclose(shown.astype(float), expected.astype(float), err_msg=where)
    elif kind == "bool":
        assert list(shown.map(lambda v: v in (1, "yes"))) == list(expected), where
    elif kind == "date":
        assert list(pd.to_datetime(shown)) == list(expected), where
    elif kind == "instant":
        assert list(pd.to_datetime(shown)) == list(expected.dt.tz_localize(None)), where
    else:  # an empty text cell is blank in SAS and Stata: "" reads as missing
        assert list(shown.fillna("").astype(str)) == list(expected.fillna("").astype(str)), where
