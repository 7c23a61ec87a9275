"""Query filters and path ids shared by the API's routes: checked once, the same way
everywhere."""

from __future__ import annotations

from datetime import datetime

from agentid.errors import NotFound
from agentid.errors import ValidationFailed
from agentid.ids import is_valid
from agentid.names import normalize
from agentid.times import as_utc


def since_utc(since: datetime | None) -> datetime | None:
    """A ``since`` filter in UTC; 422 without a zone or out of range (not a 500 later)."""
    if since is None:
        return None
    try:
        return as_utc(since, "since")
    except ValueError as exc:
        raise ValidationFailed(str(exc)) from None


def text_filter(value: str | None, name: str) -> str | None:
    """A text filter as given; NUL is refused (SQLite ends strings there, PostgreSQL errors)."""
    if value is not None and "\x00" in value:
        raise ValidationFailed(f"{name} must not contain NUL characters")
    return value


def address_filter(value: str | None, name: str) -> str | None:
    """An address filter, normalized like the addresses it is compared with."""
    checked = text_filter(value, name)
    return normalize(checked) if checked else None


def cursor_filter(value: str | None, name: str, what: str) -> str | None:
    """An id given as a cursor (``before``/``after``), uppercased; 422 if it is not an id."""
    if value is None:
        return None
    value = value.upper()
    if not is_valid(value):
        raise ValidationFailed(f"{name} must be {what}")
    return value


def path_id(value: str, what: str) -> str:
    """An id in the path (``/messages/{mid}``), uppercased; one that cannot be an id is
    simply not found (404, naming ``what``)."""
    upper = value.upper()
    if not is_valid(upper):
        raise NotFound(f"{what} {value[:40]!r} not found")
    return upper
