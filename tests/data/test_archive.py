"""A zipped bundle loads back identically and refuses what is no bundle file."""

from __future__ import annotations

import io
import zipfile

import pytest

from ldntrial.data.archive import bundle_archive, load_bundle_archive
from ldntrial.errors import BundleError
from ldntrial.protocol.loader import load_protocol
from ldntrial.simulate import simulate_trial


@pytest.fixture(scope="module")
def trial():
    return simulate_trial(load_protocol("crossover-2013"), n=6, seed=3)


def test_a_zipped_bundle_loads_back_identically(trial) -> None:
    data = bundle_archive(trial)
    names = zipfile.ZipFile(io.BytesIO(data)).namelist()
    assert "manifest.json" in names and "diary.parquet" in names
    assert load_bundle_archive(data).equals(trial)


def test_a_changed_file_in_the_zip_fails_its_checksum(trial) -> None:
    source = zipfile.ZipFile(io.BytesIO(bundle_archive(trial, format="csv")))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as changed:
        for name in source.namelist():
            content = source.read(name)
            if name == "diary.csv":
                content = content.replace(b",pain,", b",fatigue,", 1)
            changed.writestr(name, content)
    with pytest.raises(BundleError, match=r"diary\.csv: checksum does not match"):
        load_bundle_archive(buffer.getvalue())


@pytest.mark.parametrize("name", ["../escape.csv", "notes/readme.txt", "diary.exe"])
def test_a_zip_with_other_files_is_refused(name: str) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(name, "x")
    with pytest.raises(BundleError, match="which is no bundle file"):
        load_bundle_archive(buffer.getvalue())


def test_bytes_that_are_no_zip_are_refused() -> None:
    with pytest.raises(BundleError, match="is not a zip file"):
        load_bundle_archive(b"PK but not really")
