"""The rows the codes list gets for one arrival, an email or an SMS.

What the codes API hands out: the arrival's clear code (or, when several scored close,
every one of them: status "ambiguous", best first) and its best link. The candidates of
one kind share a group (consuming one consumes the group); a validity the arrival states
("expires in 10 minutes") sets ``expires_at`` from when it arrived.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from datetime import timedelta
from typing import Any

from agentid.ids import new_id


@dataclass(frozen=True, slots=True)
class Source:
    """What the codes were found in."""

    channel: str  # "email" or "sms": the source's type as well
    source_id: str  # the message's or the SMS's id
    project_id: str
    sender: str | None
    recipients: list[str]
    received_at: datetime


def code_rows(
    source: Source, codes: Sequence[dict[str, Any]], links: Sequence[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The ``codes`` rows for the candidates the extractor found in ``source``."""
    ambiguous = [c for c in codes if c.get("ambiguous")]
    picked = [("code", c) for c in (ambiguous or codes[:1])]
    picked += [("link", link) for link in links[:1]]
    groups: dict[str, str] = {}
    made = []
    for kind, candidate in picked:
        code_id = new_id()
        valid_for = candidate.get("valid_for_seconds")
        made.append(
            {
                "id": code_id,
                "project_id": source.project_id,
                "source_type": source.channel,
                "source_id": source.source_id,
                "group_id": groups.setdefault(kind, code_id),
                "channel": source.channel,
                "kind": kind,
                "value": candidate["url" if kind == "link" else "value"],
                "confidence": float(candidate["confidence"]),
                "sender": source.sender,
                "recipients": source.recipients,
                "received_at": source.received_at,
                "used": False,
                "used_at": None,
                "authenticated": None,
                "expires_at": None
                if valid_for is None
                else source.received_at + timedelta(seconds=int(valid_for)),
                "status": "ambiguous" if kind == "code" and ambiguous else "found",
            }
        )
    return made
