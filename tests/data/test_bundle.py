"""Bundles: saved and loaded identical, checksums verified, hand-built folders accepted."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from ldntrial.data import TrialData, load_bundle, save_bundle
from ldntrial.errors import BundleError, ProtocolError


def test_a_bundle_holds_the_protocol_tables_truth_and_manifest(
    small_trial: TrialData, tmp_path: Path
) -> None:
    path = save_bundle(small_trial, tmp_path / "trial")
    assert sorted(p.name for p in path.iterdir()) == [
        "adverse_events.parquet", "blinding_guesses.parquet", "diary.parquet", "labs.parquet",
        "manifest.json", "participants.parquet", "protocol.toml", "truth.json", "visits.parquet",
    ]  # fmt: skip
    manifest = json.loads((path / "manifest.json").read_text())
    assert manifest["schema_version"] == 1
    assert manifest["protocol_id"] == "crossover-2013"
    assert manifest["tables"]["diary"]["rows"] == len(small_trial.diary)
    assert set(manifest["sha256"]) == {p.name for p in path.iterdir()} - {"manifest.json"}
    assert all(len(digest) == 64 for digest in manifest["sha256"].values())


def test_a_table_edited_by_hand_fails_to_load_with_a_checksum_message(
    small_trial: TrialData, tmp_path: Path
) -> None:
    path = save_bundle(small_trial, tmp_path / "trial", format="csv")
    diary = path / "diary.csv"
    lines = diary.read_text().splitlines()
    lines[1] = lines[1].rsplit(",", 1)[0] + ",0"
    diary.write_text("\n".join(lines) + "\n")
    with pytest.raises(BundleError) as caught:
        load_bundle(path)
    assert str(caught.value) == (
        f"{diary}: checksum does not match manifest.json: the file was changed after the bundle "
        "was written"
    )


def test_an_edited_protocol_is_caught_too(small_trial: TrialData, tmp_path: Path) -> None:
    path = save_bundle(small_trial, tmp_path / "trial")
    protocol = path / "protocol.toml"
    protocol.write_text(protocol.read_text().replace("days = 84", "days = 85"))
    with pytest.raises(BundleError, match=r"protocol.toml: checksum does not match"):
        load_bundle(path)


def test_a_missing_file_is_named(small_trial: TrialData, tmp_path: Path) -> None:
    path = save_bundle(small_trial, tmp_path / "trial")
    (path / "labs.parquet").unlink()
    with pytest.raises(BundleError, match=r"labs.parquet: is listed in the manifest but missing"):
        load_bundle(path)


def test_a_hand_built_csv_folder_loads_without_a_manifest(
    small_trial: TrialData, tmp_path: Path
) -> None:
    path = save_bundle(small_trial, tmp_path / "trial", format="csv")
    for name in ("manifest.json", "truth.json", "labs.csv", "adverse_events.csv"):
        (path / name).unlink()
    loaded = load_bundle(path)
    assert loaded.diary.equals(small_trial.diary)
    assert len(loaded.labs) == 0 and len(loaded.adverse_events) == 0
    assert loaded.truth is None


def test_a_hand_built_folder_with_a_bad_row_gets_a_row_message(
    small_trial: TrialData, tmp_path: Path
) -> None:
    path = save_bundle(small_trial, tmp_path / "trial", format="csv")
    (path / "manifest.json").unlink()
    participants = pd.read_csv(path / "participants.csv", dtype=str)
    participants.loc[2, "age"] = "forty"
    participants.to_csv(path / "participants.csv", index=False)
    with pytest.raises(
        BundleError, match=r"participants.age row 2: cannot be read as int: 'forty'"
    ):
        load_bundle(path)


def test_a_folder_without_a_protocol_is_refused(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(BundleError, match=r"protocol.toml is missing"):
        load_bundle(tmp_path / "empty")
    with pytest.raises(BundleError, match="is not a folder"):
        load_bundle(tmp_path / "nowhere")


def test_a_broken_protocol_in_a_bundle_names_its_file(
    small_trial: TrialData, tmp_path: Path
) -> None:
    path = save_bundle(small_trial, tmp_path / "trial", format="csv")
    (path / "manifest.json").unlink()
    protocol = path / "protocol.toml"
    protocol.write_text(protocol.read_text().replace("days = 84", "days = -84"))
    with pytest.raises(ProtocolError, match=rf"{protocol}: line \d+: phases\[1\].days"):
        load_bundle(path)


def test_an_unknown_schema_version_is_refused(small_trial: TrialData, tmp_path: Path) -> None:
    path = save_bundle(small_trial, tmp_path / "trial")
    manifest = json.loads((path / "manifest.json").read_text())
    manifest["schema_version"] = 99
    (path / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(BundleError, match="schema_version 99 is not supported"):
        load_bundle(path)


def test_an_existing_bundle_is_not_overwritten_unless_asked(
    small_trial: TrialData, tmp_path: Path
) -> None:
    path = save_bundle(small_trial, tmp_path / "trial")
    before = (path / "manifest.json").read_text()
    with pytest.raises(BundleError, match="already exists"):
        save_bundle(small_trial, path)
    assert (path / "manifest.json").read_text() == before
    save_bundle(small_trial, path, overwrite=True, format="csv")
    assert (path / "diary.csv").exists() and not (path / "diary.parquet").exists()


def test_a_failed_save_leaves_nothing_half_written(
    small_trial: TrialData, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ldntrial.data import bundle

    def fail(*_args: object, **_kwargs: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(bundle, "_write_table", fail)
    with pytest.raises(OSError, match="disk full"):
        save_bundle(small_trial, tmp_path / "trial")
    assert list(tmp_path.iterdir()) == []


def test_a_blinded_bundle_stays_blinded(small_trial: TrialData, tmp_path: Path) -> None:
    blinded = small_trial.blinded_view()
    loaded = load_bundle(save_bundle(blinded, tmp_path / "blinded"))
    assert loaded.blinded is True
    assert loaded.equals(blinded)
    assert not (tmp_path / "blinded" / "truth.json").exists()
