"""JSON a sender chose (a webhook's body or field), read without trusting it."""

from __future__ import annotations

import json
from typing import Any


def json_object(text: str | bytes) -> dict[str, Any] | None:
    """The JSON object ``text`` holds; None when it holds anything else: not JSON, not
    UTF-8, not an object, or nested deeper than the parser recurses (RecursionError,
    which ``json.loads`` raises rather than a ValueError)."""
    try:
        found = json.loads(text)
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        return None
    return found if isinstance(found, dict) else None
