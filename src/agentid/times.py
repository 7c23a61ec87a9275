"""Time helpers every feature shares (a bottom module: it imports no feature package)."""

from __future__ import annotations

from datetime import UTC
from datetime import datetime


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime, name: str) -> datetime:
    """``value`` in UTC; ValueError when it has no zone or lies outside what UTC can hold."""
    if value.tzinfo is None:
        raise ValueError(f"{name} needs a timezone (e.g. 2030-01-01T00:00:00Z)")
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError(f"{name} is out of range") from None


def json_time(value: datetime | None) -> str | None:
    """``value`` as the API writes times in JSON (pydantic's form: UTC as ``Z``)."""
    if value is None:
        return None
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
