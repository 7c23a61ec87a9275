"""The verdict stage's records and what the store holds of them: a digested message
waiting for its check (``Pending``), a finished check (``Done``), the messages left
without a verdict (checked again at start), and the one transaction that writes a batch
of verdicts with the events of the messages that have codes."""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import ColumnExpressionArgument
from sqlalchemy import Engine
from sqlalchemy import Select
from sqlalchemy import bindparam
from sqlalchemy import select
from sqlalchemy import text
from sqlalchemy import update

from agentid.codes.sites import signed_by
from agentid.email.inbound.digested import AuthInput
from agentid.email.inbound.digested import Digested
from agentid.events import Kind
from agentid.events import Signal
from agentid.store import event_log
from agentid.store.notices import Notifier
from agentid.store.tables import CodeRow
from agentid.store.tables import Message
from agentid.store.tables import table_of
from agentid.store.tables.mail import UNCHECKED
from agentid.times import utcnow

RECOVER_WITHIN = timedelta(days=1)  # unchecked messages older than this stay unchecked
RECOVER_MAX = 10_000
_MESSAGES = table_of(Message)
_CODES = table_of(CodeRow)
_SET_VERDICT = (
    update(_MESSAGES)
    .where(_MESSAGES.c.id == bindparam("message_id"))
    .values(auth_results=bindparam("verdict"), signed_by=bindparam("signed_by"))
)
_SET_CODES = (
    update(_CODES)
    .where(_CODES.c.source_type == "email", _CODES.c.source_id == bindparam("message_id"))
    .values(authenticated=bindparam("authenticated"))
)


@dataclass(frozen=True, slots=True)
class Pending:
    project_id: str
    message_id: str
    keys: tuple[str, ...]
    has_codes: bool
    deadline: float  # monotonic
    auth_input: AuthInput | None = None  # None: read from the store


@dataclass(frozen=True, slots=True)
class Done:
    pending: Pending
    verdict: dict[str, Any]


def public(verdict: dict[str, Any]) -> dict[str, Any]:
    """The verdict as the API shows it (without the rendered header)."""
    return {k: v for k, v in verdict.items() if k != "header"}


def unchecked() -> tuple[ColumnExpressionArgument[bool], ...]:
    """Digested without a verdict, in the last day: the predicate of the partial index
    that finds them (``ix_messages_unchecked``) as its own words, so that a statement
    prepared once still matches it."""
    return (text(UNCHECKED), Message.received_at >= utcnow() - RECOVER_WITHIN)


# a message to check again as the store has it: project, id, envelope recipients, and the
# codes and links found in it (a message with none tells no ``message.authenticated``)
UNCHECKED_COLUMNS = (Message.project_id, Message.id, Message.rcpt_to, Message.codes, Message.links)
Unchecked = tuple[str, str, list[str], list[Any] | None, list[Any] | None]


def left_unchecked() -> Select[str, str, list[str], list[Any] | None, list[Any] | None]:
    """Messages of the last day digested without a verdict, oldest first."""
    return select(*UNCHECKED_COLUMNS).where(*unchecked()).order_by(Message.received_at)


def recovered(rows: Iterable[Unchecked], timeout: float) -> list[Pending]:
    """Messages read from the store to check again, each due ``timeout`` from now; one
    with codes or links tells its verdict (the event wakes whoever waits for them)."""
    deadline = time.monotonic() + timeout
    return [
        Pending(p, m, tuple(rcpt), bool(codes or links), deadline)
        for p, m, rcpt, codes, links in rows
    ]


def pending(digested: Iterable[Digested], timeout: float) -> list[Pending]:
    """Digested messages as the stage queues them, each due ``timeout`` from now."""
    deadline = time.monotonic() + timeout
    return [
        Pending(
            d.project_id,
            d.message_id,
            d.keys,
            any(kind == Kind.CODE_FOUND.value for kind, _ in d.events),
            deadline,
            d.auth_input,
        )
        for d in digested
    ]


def store(engine: Engine, batch: list[Done], notifier: Notifier | None) -> list[Signal]:
    """One transaction for the batch (with the NOTIFY of its events, when other
    processes listen); the signals of the events written."""
    verdicts = [
        {
            "message_id": d.pending.message_id,
            "verdict": d.verdict,
            "signed_by": signed_by(d.verdict),
        }
        for d in batch
    ]
    with engine.begin() as conn:
        # the messages still without a verdict, locked (in id order) until this commits, as
        # the update would (FOR NO KEY UPDATE: rows that name them may still be added):
        # one deleted meanwhile gets nothing, and a verdict another process wrote first
        # (it claimed the message from an owner that only looked gone, or the other way
        # round) stands, with its codes' flags and its one event
        ids = sorted(d.pending.message_id for d in batch)
        still = select(Message.id).where(Message.id.in_(ids), Message.auth_results.is_(None))
        locked = still.order_by(Message.id).with_for_update(key_share=True)
        kept = set(conn.execute(locked).scalars())
        verdicts = [v for v in verdicts if v["message_id"] in kept]
        if verdicts:
            conn.execute(_SET_VERDICT, verdicts)
        with_codes = [d for d in batch if d.pending.has_codes and d.pending.message_id in kept]
        if with_codes:
            flags = [
                {
                    "message_id": d.pending.message_id,
                    "authenticated": d.verdict["authenticated"],
                }
                for d in with_codes
            ]
            conn.execute(_SET_CODES, flags)
        seqs = event_log.append(conn, [_event(d) for d in with_codes])
        signals = [
            Signal(d.pending.project_id, Kind.MESSAGE_AUTHENTICATED, seq, d.pending.keys)
            for d, seq in zip(with_codes, seqs, strict=True)
        ]
        if notifier is not None:
            notifier.send(conn, signals)
    return signals


def _event(done: Done) -> dict[str, Any]:
    """The ``message.authenticated`` event of a message with codes."""
    message_id = done.pending.message_id
    payload = {
        "message_id": message_id,
        "authenticated": done.verdict["authenticated"],
        "auth_results": public(done.verdict),
    }
    return event_log.row(
        done.pending.project_id, Kind.MESSAGE_AUTHENTICATED.value, message_id, payload
    )
