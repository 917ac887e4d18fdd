"""The date bounds an event API is asked for (UCDP StartDate/EndDate, ACLED event_date BETWEEN)."""

from __future__ import annotations

from datetime import date, datetime


def iso_date(value: date | str, what: str) -> str:
    """A date, datetime or YYYY-MM-DD text as YYYY-MM-DD; anything else is a ValueError naming `what`."""
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        return value.isoformat()
    try:
        return date.fromisoformat(value).isoformat()
    except (TypeError, ValueError):
        raise ValueError(f"{what} must be a date or YYYY-MM-DD, got {value!r}") from None


def month_start(day: date) -> date:
    """The first day of a day's month: the key of its monthly partition."""
    return day.replace(day=1)
