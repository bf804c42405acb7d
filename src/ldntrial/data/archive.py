"""A bundle as one zip file: for downloads and for keeping a locked snapshot in a database.

The zip holds the bundle's files at its top level, manifest included, so
:func:`load_bundle_archive` verifies every checksum as :func:`load_bundle`
does. Only the names a bundle can have are read back: a zip that carries a
path (``../x``) or anything else is refused, not unpacked.
"""

from __future__ import annotations

import io
import re
import tempfile
import zipfile
from pathlib import Path

from ldntrial.data.bundle import load_bundle, save_bundle
from ldntrial.data.trialdata import TrialData
from ldntrial.errors import BundleError

__all__ = ["bundle_archive", "load_bundle_archive"]

_BUNDLE_FILE = re.compile(r"[a-z_]+\.(parquet|csv|json|toml)")


def bundle_archive(trial: TrialData, *, format: str = "parquet") -> bytes:
    """``trial`` saved as a bundle and zipped (deflated), as bytes."""
    with tempfile.TemporaryDirectory(prefix="ldntrial-bundle-") as scratch:
        folder = save_bundle(trial, Path(scratch) / "bundle", format=format)
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for path in sorted(folder.iterdir()):
                archive.write(path, arcname=path.name)
        return buffer.getvalue()


def load_bundle_archive(data: bytes) -> TrialData:
    """The TrialData of a zipped bundle, every checksum verified."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise BundleError("is not a zip file", path=Path("archive")) from None
    with archive, tempfile.TemporaryDirectory(prefix="ldntrial-bundle-") as scratch:
        for name in archive.namelist():
            if not _BUNDLE_FILE.fullmatch(name):
                raise BundleError(f"holds '{name}', which is no bundle file", path=Path("archive"))
            (Path(scratch) / name).write_bytes(archive.read(name))
        return load_bundle(scratch)
