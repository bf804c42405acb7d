"""The audit trail: append-only, hash-chained entries for every write of study data."""
