"""What a webhook is sent for each event: ``{"type", "timestamp", "data"}`` (Standard
Webhooks), ``data`` holding the project and ids and summaries, never a secret nor a body.

Codes and links never leave agentid (the rule the send guard keeps for mail), so no code's
or link's value, no subject (a code often stands in it), no message or SMS text and no
escalation's answer is ever posted: a receiver fetches those through the API with its
token. Per kind, ``data`` is the event's payload (as the event stream carries it) cut to:

- ``message.received``: id, received_at, from, to, size, has_attachments, parse_error,
  and how many codes and links were found (``code_count``, ``link_count``);
- ``code.found``: the code's id, kind, channel, source, group_id, from, to, received_at,
  expires_at, confidence, authenticated, status (not its value);
- ``sms.received``: id, from, to, received_at, provider, ``code_count``, ``link_count``,
  ``media_count`` (not the body);
- ``sms.filtered``: the notice whole (kind, error_code, at);
- ``message.sent``, ``message.failed``: the sent message as the outbox shows it but its
  subject: id, created_at, status, from, to, cc, in_reply_to, thread_id, size, attempts,
  error, recipients;
- ``escalation.opened``, ``escalation.answered``: id, status, kind, channel, site,
  question, created_at, answered_at, expires_at, whichever the escalation has (never the
  answer).

Every ``data`` starts with ``project_id``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from typing import get_args

from agentid.events import Kind
from agentid.times import json_time
from agentid.webhooks.schemas import WebhookEvent

# The kinds a webhook may take, in the order the API lists them.
WEBHOOK_KINDS: tuple[Kind, ...] = tuple(Kind(kind) for kind in get_args(WebhookEvent))
# What the operator's webhook (AGENTID_OPERATOR_WEBHOOK_URL) is sent, from every project.
OPERATOR_KINDS: frozenset[Kind] = frozenset({Kind.ESCALATION_OPENED})

_SENT = (
    "id", "created_at", "status", "from", "to", "cc", "in_reply_to", "thread_id", "size",
    "attempts", "error", "recipients",
)  # fmt: skip
_ESCALATION = (
    "id", "status", "kind", "channel", "site", "question", "created_at", "answered_at",
    "expires_at",
)  # fmt: skip
_KEPT: Mapping[Kind, tuple[str, ...]] = {
    Kind.MESSAGE_RECEIVED: (
        "id", "received_at", "from", "to", "size", "has_attachments", "parse_error",
    ),
    Kind.CODE_FOUND: (
        "id", "kind", "channel", "source", "group_id", "from", "to", "received_at",
        "expires_at", "confidence", "authenticated", "status",
    ),
    Kind.SMS_RECEIVED: ("id", "from", "to", "received_at", "provider"),
    Kind.SMS_FILTERED: ("kind", "error_code", "at"),
    Kind.MESSAGE_SENT: _SENT,
    Kind.MESSAGE_FAILED: _SENT,
    Kind.ESCALATION_OPENED: _ESCALATION,
    Kind.ESCALATION_ANSWERED: _ESCALATION,
}  # fmt: skip
# lists in the payload that are told by their length only: name -> the count's name
_COUNTED: Mapping[Kind, Mapping[str, str]] = {
    Kind.MESSAGE_RECEIVED: {"codes": "code_count", "links": "link_count"},
    Kind.SMS_RECEIVED: {"codes": "code_count", "links": "link_count", "media": "media_count"},
}
_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def data(kind: Kind, project_id: str, payload: Mapping[str, Any]) -> dict[str, Any]:
    """The ``data`` of a ``kind`` event: the project, then the payload cut to ``_KEPT``."""
    out: dict[str, Any] = {"project_id": project_id}
    out.update({name: payload[name] for name in _KEPT[kind] if name in payload})
    for name, count in _COUNTED.get(kind, {}).items():
        value = payload.get(name)
        out[count] = len(value) if isinstance(value, list) else 0
    return out


def body(kind: Kind, project_id: str, payload: Mapping[str, Any], at: datetime) -> str:
    """The JSON a webhook is sent for the event (built once; every attempt sends it)."""
    summary = data(kind, project_id, payload)
    return str(_dumps({"type": kind.value, "timestamp": json_time(at), "data": summary}))
