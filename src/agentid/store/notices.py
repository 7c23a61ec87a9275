"""What one process tells the others on a PostgreSQL store: NOTIFY payloads, and sending
them in a transaction of one's own.

A payload is a signal's project, kind, event seq and addresses, and the origin of the
process that sent it, never what the event says (listeners read the store for that). The
event bus (``store/bus``) sends the server process's signals over its listening
connection. A helper process whose own transaction stores what a signal reports (a parse
worker storing a digested message and its events) sends the NOTIFY in that transaction
(``Notifier.send``): PostgreSQL delivers it at the commit, so another process hears of
the message the moment it can read it, instead of after the helper's answer has reached
the server and the server's own NOTIFY has made its round trip. It goes out under the
server's origin: the server, which delivers those signals to its own listeners itself,
ignores it as it ignores its own.

The rules:

- **Payloads stay under PostgreSQL's 8000 bytes**: a signal with many addresses is sent as
  several notifications, each with some of them.
- **One channel per schema** (``channel_for``): two services sharing a database in
  different schemas never hear each other.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection
from sqlalchemy import bindparam
from sqlalchemy import text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.types import Text

from agentid.events import Kind
from agentid.events import Signal

MAX_PAYLOAD = 7900  # bytes; PostgreSQL refuses a NOTIFY payload of 8000 or more
_NOTIFY = text(
    "SELECT pg_notify(:channel, p) FROM unnest(:payloads) WITH ORDINALITY AS t(p, n) ORDER BY n"
).bindparams(bindparam("payloads", type_=ARRAY(Text())))


def channel_for(schema: str | None) -> str:
    """The channel the processes on ``schema`` share (a name PostgreSQL keeps whole)."""
    if schema is None:
        return "agentid"
    if len(schema) <= 50:
        return f"agentid.{schema}"
    return "agentid." + hashlib.sha256(schema.encode()).hexdigest()[:32]


def encode(origin: str, signal: Signal) -> list[str]:
    """``signal`` as one or more NOTIFY payloads, each under ``MAX_PAYLOAD`` bytes."""
    head: dict[str, Any] = {"o": origin, "p": signal.project_id, "k": signal.kind.value}
    if signal.seq is not None:
        head["s"] = signal.seq
    plain = json.dumps(head, separators=(",", ":"))
    if not signal.keys:
        return [plain]
    payloads: list[str] = []
    keys: list[str] = []
    size = len(plain.encode()) + 8
    for key in signal.keys:
        cost = len(json.dumps(key).encode()) + 1
        if keys and size + cost > MAX_PAYLOAD:
            payloads.append(json.dumps({**head, "y": keys}, separators=(",", ":")))
            keys, size = [], len(plain.encode()) + 8
        keys.append(key)
        size += cost
    payloads.append(json.dumps({**head, "y": keys}, separators=(",", ":")))
    return payloads


def decode(payload: str) -> tuple[str, Signal] | None:
    """The sender's origin and its signal; None for a payload that is not one of ours."""
    try:
        data = json.loads(payload)
        signal = Signal(
            str(data["p"]),
            Kind(data["k"]),
            int(data["s"]) if "s" in data else None,
            tuple(str(k) for k in data.get("y", ())),
        )
        return str(data["o"]), signal
    except (ValueError, KeyError, TypeError):
        return None


@dataclass(frozen=True, slots=True)
class Notifier:
    """The channel and origin of a server process's bus, for its helper processes."""

    channel: str
    origin: str

    def send(self, conn: Connection, signals: Iterable[Signal]) -> None:
        """NOTIFY ``signals`` in ``conn``'s transaction: delivered if and when it commits."""
        payloads = [p for signal in signals for p in encode(self.origin, signal)]
        if payloads:
            conn.execute(_NOTIFY, {"channel": self.channel, "payloads": payloads})
