"""Asking a human: an agent opens an escalation (it needs a code, a link, something else
it cannot get itself), the operator answers it, and the agent's wait ends.

The rules this module keeps:

- Only the operator answers (the route takes the admin token), so an agent never answers
  itself. An escalation is answered once: the UPDATE that finds it still open wins.
- An answer of kind ``code`` or ``link`` becomes a ``codes`` row in the same transaction
  (``source.type = "escalation"``, ``channel = "escalation"``, ``authenticated = true``:
  the operator is the one source that needs no proof; ``from`` is null), with its
  ``code.found`` event, so a ``GET /codes?wait=`` (``Client.wait_for_code``) started before
  the answer returns it. For an escalation whose ``service`` is a domain, the code counts
  as that site's in site-bound waits.
- An escalation open past ``expires_at`` is ``expired``: shown so, left out of the
  operator's open list, and refused an answer (409). Its expiry is read from the clock
  at each read and answer (the UPDATE checks it too): nothing has to run for it to close.
- ``escalation.opened`` and ``escalation.answered`` (the escalation as the API shows it)
  are written with the change, and the bus hears of them after the commit.
- A project has at most ``MAX_OPEN`` open at once: an agent in a loop cannot bury the
  operator (409 past it).
"""

from __future__ import annotations

import logging
from datetime import datetime
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from agentid.codes.repository import EscalationRepository
from agentid.codes.schemas import EscalationCreate
from agentid.codes.schemas import EscalationList
from agentid.codes.schemas import EscalationOut
from agentid.codes.sites import registrable
from agentid.email.inbound.digested import code_payload
from agentid.errors import Conflict
from agentid.errors import NotFound
from agentid.errors import ValidationFailed
from agentid.events import Kind
from agentid.events import Signal
from agentid.ids import is_valid
from agentid.ids import new_id
from agentid.projects.repository import ProjectRepository
from agentid.runtime import Runtime
from agentid.store import event_log
from agentid.store.db import AsyncSession
from agentid.store.tables import Escalation
from agentid.times import utcnow
from agentid.waits import wait_until

log = logging.getLogger("agentid.codes")
MAX_OPEN = 20  # open escalations per project
MAX_CODE_CHARS = 256


def status_of(row: Escalation, now: datetime) -> str:
    if row.status == "open" and row.expires_at <= now:
        return "expired"
    return row.status


# what an escalation shows under the name it is stored by
_AS_STORED = (
    "id", "project_id", "kind", "service", "reason", "created_at", "expires_at", "answered_at",
    "value", "code_id",
)  # fmt: skip


def escalation_out(row: Escalation, now: datetime) -> EscalationOut:
    shown = {name: getattr(row, name) for name in _AS_STORED}
    return EscalationOut.model_validate(shown | {"status": status_of(row, now)})


def _site(service: str | None) -> str | None:
    """The registrable domain a service names (``notion.so``, ``https://www.notion.so/x``),
    or None for a name that is none (``Notion``)."""
    if service is None:
        return None
    host = urlsplit(service).hostname if "://" in service else service.strip().split("/")[0]
    return registrable(host) if host else None


async def open_escalation(
    rt: Runtime, session: AsyncSession, project_id: str, body: EscalationCreate
) -> EscalationOut:
    now = utcnow()
    repo = EscalationRepository(session)
    await ProjectRepository(session).hold(project_id)  # counted, then opened: one at a time
    if await repo.open_count(project_id, now) >= MAX_OPEN:
        raise Conflict(
            f"{MAX_OPEN} escalations of this project are open: wait for an answer or expiry"
        )
    service = body.service.strip() if body.service else None
    row = Escalation(
        id=new_id(),
        project_id=project_id,
        kind=body.kind,
        service=service or None,
        site=_site(service),
        reason=body.reason,
        status="open",
        created_at=now,
        expires_at=now + timedelta(seconds=body.expires_in),
    )
    out = escalation_out(row, now)
    payload = out.model_dump(mode="json")
    event = event_log.row(project_id, Kind.ESCALATION_OPENED.value, row.id, payload)
    seq = await repo.opened(row, event)
    await session.commit()
    rt.bus.publish(Signal(project_id, Kind.ESCALATION_OPENED, seq))
    log.info(
        "escalation opened",
        extra={"project_id": project_id, "escalation_id": row.id, "kind": row.kind},
    )
    return out


async def _get(session: AsyncSession, project_id: str, escalation_id: str) -> Escalation:
    found = None
    if is_valid(escalation_id.upper()):
        found = await EscalationRepository(session).get(project_id, escalation_id.upper())
    if found is None:
        raise NotFound(f"escalation {escalation_id[:26]!r} not found")
    return found


async def listed(
    session: AsyncSession, project_id: str, before: str | None, limit: int
) -> EscalationList:
    """The project's escalations, newest first, whatever their status."""
    page = await EscalationRepository(session).page(project_id, before, limit)
    now = utcnow()
    items = [escalation_out(r, now) for r in page.items]
    return EscalationList(escalations=items, next=page.next(lambda r: r.id))


async def open_everywhere(session: AsyncSession, before: str | None, limit: int) -> EscalationList:
    """Every project's open escalations, newest first (the operator's list)."""
    now = utcnow()
    page = await EscalationRepository(session).open_page(now, before, limit)
    items = [escalation_out(r, now) for r in page.items]
    return EscalationList(escalations=items, next=page.next(lambda r: r.id))


async def one(
    rt: Runtime, session: AsyncSession, project_id: str, escalation_id: str, wait: float
) -> EscalationOut:
    """The escalation; an open one is held until answered, expired, or ``wait`` ends."""
    row = await _get(session, project_id, escalation_id)
    found_id, until = row.id, (row.expires_at - utcnow()).total_seconds()

    async def look() -> EscalationOut:
        session.expire_all()  # read it again, not from the session's memory
        found = await _get(session, project_id, found_id)
        await session.commit()
        return escalation_out(found, utcnow())

    out = await wait_until(
        rt,
        project_id,
        look,
        lambda out: out.status != "open",
        kinds=(Kind.ESCALATION_ANSWERED,),
        wait=max(0.0, min(wait, until + 0.05)),  # its expiry ends the wait, answered or not
    )
    # the wait ran out: read it once more, it may have expired meanwhile
    return await look() if out.status == "open" and wait > 0 else out


def _checked(kind: str, value: str) -> str:
    """The answer as the agent gets it: a link is an http(s) URL; a code is one short
    line (spaces around it dropped)."""
    value = value.strip()
    if not value:
        raise ValidationFailed("value must not be blank")
    if kind == "link":
        parts = urlsplit(value)
        if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
            raise ValidationFailed("a link must be an http or https URL")
    if kind == "code" and len(value) > MAX_CODE_CHARS:
        raise ValidationFailed(f"a code is at most {MAX_CODE_CHARS} characters")
    return value


def _code_row(row: Escalation, value: str, now: datetime) -> dict[str, Any]:
    """The ``codes`` row an answered code or link becomes (see the module docstring)."""
    code_id = new_id()
    return {
        "id": code_id,
        "project_id": row.project_id,
        "source_type": "escalation",
        "source_id": row.id,
        "group_id": code_id,
        "channel": "escalation",
        "kind": row.kind,
        "value": value,
        "confidence": 1.0,
        "sender": None,
        "recipients": [],
        "received_at": now,
        "used": False,
        "used_at": None,
        "authenticated": True,
        "expires_at": None,
        "status": "found",
    }


async def answer(
    rt: Runtime, session: AsyncSession, project_id: str, escalation_id: str, value: str
) -> EscalationOut:
    """The operator's answer: 409 when the escalation was answered or has expired."""
    row = await _get(session, project_id, escalation_id)
    now = utcnow()
    status = status_of(row, now)
    if status != "open":
        raise Conflict(f"escalation {row.id} is {status}: it takes no answer")
    value = _checked(row.kind, value)
    code = _code_row(row, value, now) if row.kind in ("code", "link") else None
    answered = escalation_out(row, now).model_copy(
        update={
            "status": "answered",
            "value": value,
            "answered_at": now,
            "code_id": None if code is None else code["id"],
        }
    )
    events = [
        event_log.row(
            project_id, Kind.ESCALATION_ANSWERED.value, row.id, answered.model_dump(mode="json")
        )
    ]
    if code is not None:
        events.append(event_log.row(project_id, Kind.CODE_FOUND.value, row.id, code_payload(code)))
    seqs = await EscalationRepository(session).answer(row.id, value, now, code, events)
    if seqs is None:
        await session.rollback()
        raise Conflict(f"escalation {row.id} was answered or expired meanwhile")
    await session.commit()
    for event, seq in zip(events, seqs, strict=True):
        rt.bus.publish(Signal(project_id, Kind(event["kind"]), seq))
    log.info("escalation answered", extra={"project_id": project_id, "escalation_id": row.id})
    return answered
