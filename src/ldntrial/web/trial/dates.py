"""The dates a site enters, held to the calendar: nothing in the future, nothing from before.

A typed year (2099 for 2009, 1900 for 2019) is stored quietly unless it is
refused here, and every later date and study day follows from it. Each
check names the field and the rule, for the forms and the imports alike.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

__all__ = ["EARLIEST", "date_problem", "local_today"]

# ldntrial runs studies from now on, and imports ones begun since the first LDN
# trial in fibromyalgia (2009); a date before 2000 is a typing error.
EARLIEST = date(2000, 1, 1)


# Where a date has no time zone of its own (a consent), the first place on Earth to reach a
# date decides whether it has come.
_AHEAD_OF_ALL = "Etc/GMT-14"


def local_today(zone: str | None = None) -> date:
    """Today in ``zone`` (her time zone), or the latest date anywhere on Earth."""
    return datetime.now(ZoneInfo(zone or _AHEAD_OF_ALL)).date()


def date_problem(
    value: date, *, zone: str | None = None, not_before: date | None = None, what: str = ""
) -> str | None:
    """Why ``value`` cannot be right (in the future, before ``not_before`` or 2000), or None."""
    if value > local_today(zone):
        return "in the future" + (" (her local date)" if zone else "")
    if not_before is not None and value < not_before:
        return f"before {what or 'the earliest possible date'} ({not_before:%Y-%m-%d})"
    if value < EARLIEST:
        return f"before {EARLIEST:%Y}: a typing error?"
    return None
