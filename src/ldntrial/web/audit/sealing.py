"""The secret behind the audit trail: keyed hashes of entries and of concealed values.

Plain SHA-256 lets anyone who can write to the database rewrite an entry and
recompute every later hash, and the chain checks again. Each hash here is an
HMAC-SHA256 under ``LDNTRIAL_AUDIT_KEY``, a secret kept outside the database
and its backups (web/config.py), so only the site itself can extend the
chain and a forger with the database alone cannot.

Concealed values (a participant's sequence, a kit's contents) never appear in
an entry, which every blinded reader of the trail sees. Instead each one is
kept as a keyed digest bound to its entry (:func:`concealed_digest`): it
reveals nothing without the key, yet lets ``verify_audit`` prove that the
value in the table is the one the trail recorded (a flipped allocation).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import math
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import models

__all__ = ["as_json_stored", "canonical_value", "concealed_digest", "keyed_hash"]


def _key() -> bytes:
    return settings.LDNTRIAL_AUDIT_KEY.encode()


def keyed_hash(text: str) -> str:
    """HMAC-SHA256 of ``text`` under the audit key, as hex."""
    return hmac.new(_key(), text.encode("utf-8"), hashlib.sha256).hexdigest()


def concealed_digest(entry_hash: str, field: str, value: str) -> str:
    """The digest of a concealed ``value`` of ``field``, bound to the entry that wrote it.

    Binding to the entry's (keyed) hash means a digest cannot be moved to
    another record or entry, and a guess of the value cannot be tested
    without the key.
    """
    return keyed_hash(f"{entry_hash}\x00{field}\x00{value}")


def canonical_value(field: models.Field, value: Any) -> str:
    """One text for a field's value however it was held: as set in Python or read back.

    A datetime written with the phone's UTC offset reads back in UTC; a
    binary value comes back as a memoryview on PostgreSQL. Both must give
    the same text, or a true value would look tampered with.
    """
    value = field.to_python(value)
    if value is None:
        return "null"
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, bytes | memoryview | bytearray):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(field, models.JSONField):
        return json.dumps(
            as_json_stored(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False
        )
    return str(value)


# From here up Python writes a float in exponent form (1e+16) while PostgreSQL's jsonb,
# which keeps numbers as exact decimals, gives back every digit (10000000000000000): an int.
_JSONB_INTEGRAL = 1e16


def as_json_stored(value: Any) -> Any:
    """``value`` as every database gives JSON back: PostgreSQL's jsonb has no negative zero,
    and reads a float of 1e16 or more as the integer its decimal form spells."""
    if isinstance(value, float):
        if value == 0.0:
            return 0.0
        if math.isfinite(value) and abs(value) >= _JSONB_INTEGRAL:
            return int(Decimal(repr(value)))
        return value
    if isinstance(value, dict):
        return {key: as_json_stored(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [as_json_stored(item) for item in value]
    return value
