"""Trial bundles: a TrialData saved as a folder that loads back identically.

::

    my-trial/
      protocol.toml          the protocol, as written
      participants.parquet   one file per table (Parquet by default, or .csv)
      diary.parquet  visits.parquet  labs.parquet
      adverse_events.parquet  blinding_guesses.parquet
      truth.json             simulated bundles only: the true parameters
      manifest.json          versions, row counts and the SHA-256 of every file

Loading verifies every checksum in the manifest, so a file changed by hand
is an error, not a silent change. A folder with a ``protocol.toml`` and CSV
tables but no manifest also loads (a bundle built by hand); missing tables
are then empty. Saving writes into a temporary folder beside the target and
renames it into place, so a bundle is never half-written.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd

from ldntrial.data.tables import TABLES
from ldntrial.data.trialdata import TABLE_NAMES, TrialData
from ldntrial.errors import BundleError, DataError
from ldntrial.protocol.loader import parse_protocol, protocol_to_toml
from ldntrial.version import __version__

__all__ = ["BUNDLE_SCHEMA_VERSION", "load_bundle", "save_bundle"]

BUNDLE_SCHEMA_VERSION = 1
MANIFEST = "manifest.json"
PROTOCOL = "protocol.toml"
TRUTH = "truth.json"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def save_bundle(
    trial: TrialData, folder: str | Path, *, format: str = "parquet", overwrite: bool = False
) -> Path:
    """Write ``trial`` to ``folder`` (which must not exist unless ``overwrite``)."""
    if format not in ("parquet", "csv"):
        raise BundleError(f"format must be 'parquet' or 'csv', got {format!r}")
    target = Path(folder)
    if target.exists() and not overwrite:
        raise BundleError(
            "already exists; choose another folder or allow overwriting (--overwrite)", path=target
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        (staging / PROTOCOL).write_text(protocol_to_toml(trial.protocol), encoding="utf-8")
        tables: dict[str, dict[str, Any]] = {}
        for name, table in trial.tables().items():
            filename = f"{name}.{format}"
            _write_table(table, staging / filename, format)
            tables[name] = {"file": filename, "rows": len(table)}
        if trial.truth is not None:
            text = json.dumps(trial.truth, indent=2, sort_keys=True)
            (staging / TRUTH).write_text(text, encoding="utf-8")
        files = {
            path.name: _sha256(path) for path in sorted(staging.iterdir()) if path.name != MANIFEST
        }
        manifest = {
            "schema_version": BUNDLE_SCHEMA_VERSION,
            "ldntrial_version": __version__,
            "protocol_id": trial.protocol.id,
            "format": format,
            "blinded": trial.blinded,
            "tables": tables,
            "sha256": files,
        }
        (staging / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
        if target.exists():
            shutil.rmtree(target)
        staging.rename(target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target


def _write_table(table: pd.DataFrame, path: Path, format: str) -> None:
    if format == "parquet":
        table.to_parquet(path, index=False, engine="pyarrow")
        return
    out = table.copy()
    for column in TABLES[path.stem]:
        if column.kind == "date":
            out[column.name] = out[column.name].dt.strftime("%Y-%m-%d")
        elif column.kind == "instant":
            out[column.name] = out[column.name].dt.strftime("%Y-%m-%dT%H:%M:%SZ")
        elif column.kind == "bool":
            out[column.name] = out[column.name].map({True: "true", False: "false"})
    out.to_csv(path, index=False, float_format="%.17g")


def load_bundle(folder: str | Path) -> TrialData:
    """Read a bundle, verifying the manifest's checksums when there is one."""
    root = Path(folder)
    if not root.is_dir():
        raise BundleError("is not a folder", path=root)
    manifest_path = root / MANIFEST
    manifest = _read_manifest(manifest_path) if manifest_path.exists() else None
    if manifest is not None:
        _verify_checksums(root, manifest)
    protocol_path = root / PROTOCOL
    if not protocol_path.is_file():
        raise BundleError(f"{PROTOCOL} is missing", path=root)
    protocol = parse_protocol(protocol_path.read_text("utf-8"), source=str(protocol_path))
    tables = {}
    for name in TABLE_NAMES:
        path = _table_path(root, name, manifest)
        if path is None:
            if manifest is not None or name == "participants":
                raise BundleError(f"the {name} table is missing", path=root)
            continue
        tables[name] = _read_table(path)
    truth_path = root / TRUTH
    truth = json.loads(truth_path.read_text("utf-8")) if truth_path.is_file() else None
    blinded = bool(manifest["blinded"]) if manifest else False
    try:
        return TrialData.from_tables(protocol, blinded=blinded, truth=truth, **tables)
    except DataError as error:
        raise BundleError(str(error), path=root) from None


def _read_manifest(path: Path) -> dict[str, Any]:
    try:
        manifest: dict[str, Any] = json.loads(path.read_text("utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise BundleError(f"cannot be read: {error}", path=path) from None
    version = manifest.get("schema_version")
    if version != BUNDLE_SCHEMA_VERSION:
        raise BundleError(
            f"schema_version {version!r} is not supported (this ldntrial reads "
            f"{BUNDLE_SCHEMA_VERSION})",
            path=path,
        )
    return manifest


def _verify_checksums(root: Path, manifest: dict[str, Any]) -> None:
    for filename, expected in manifest.get("sha256", {}).items():
        path = root / filename
        if not path.is_file():
            raise BundleError("is listed in the manifest but missing", path=path)
        if _sha256(path) != expected:
            raise BundleError(
                "checksum does not match manifest.json: the file was changed after the "
                "bundle was written",
                path=path,
            )


def _table_path(root: Path, name: str, manifest: dict[str, Any] | None) -> Path | None:
    if manifest is not None:
        entry = manifest.get("tables", {}).get(name)
        return root / entry["file"] if entry else None
    for suffix in (".parquet", ".csv"):
        if (root / f"{name}{suffix}").is_file():
            return root / f"{name}{suffix}"
    return None


def _read_table(path: Path) -> pd.DataFrame:
    try:
        if path.suffix == ".parquet":
            return pd.read_parquet(path, engine="pyarrow")
        return pd.read_csv(path, dtype="str", keep_default_na=False, na_values=[""])
    except (OSError, ValueError) as error:
        raise BundleError(f"cannot be read: {error}", path=path) from None
