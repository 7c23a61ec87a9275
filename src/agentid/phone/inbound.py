"""Inbound SMS: stored once, codes and links extracted as for email, events published.

The rule this module keeps: an SMS is stored at most once per (provider, provider message
id), whatever the number of retries, concurrent or not; the store's unique constraint
decides, so a retry answers as the first delivery did and writes nothing. The SMS, its
codes (``source.type = "sms"``, ``channel = "sms"``, in ``GET /projects/{id}/codes``),
the touch of its number's last activity and its events (``sms.received``, then
``code.found`` per code) are one transaction; the bus hears of them after the commit.
Its text is stored as both stores can hold it: no NUL, no lone surrogate (agentid.mime.clean).
Logs name the SMS and the project, never its body nor its sender.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from dataclasses import replace
from typing import Any

from sqlalchemy.exc import IntegrityError

from agentid.codes.found import Source
from agentid.codes.found import code_rows
from agentid.email.inbound.digested import code_payload
from agentid.errors import NotFound
from agentid.events import Kind
from agentid.events import Signal
from agentid.ids import new_id
from agentid.mime import clean
from agentid.phone.repository import PhoneRepository
from agentid.phone.repository import SmsQuery
from agentid.phone.schemas import MAX_SMS_CHARS
from agentid.phone.schemas import SmsDetail
from agentid.phone.schemas import SmsOut
from agentid.providers.base import InboundSms
from agentid.runtime import Runtime
from agentid.store import event_log
from agentid.store.db import AsyncSession
from agentid.store.tables import Sms
from agentid.times import json_time
from agentid.waits import wait_for_page

log = logging.getLogger("agentid.phone")
MAX_PARAMS = 200  # fields kept from one webhook (Twilio sends about 20)
MAX_PARAM_CHARS = 2000


@dataclass(frozen=True, slots=True)
class Recipient:
    """Whose number an SMS reached."""

    project_id: str
    number_id: str | None
    provider: str


def sms_out(row: Sms) -> SmsOut:
    return SmsOut.model_validate(row, from_attributes=True)


def _code_rows(
    sms_id: str, project_id: str, sms: InboundSms, found: dict[str, list[dict[str, Any]]]
) -> list[dict[str, Any]]:
    """What the codes API hands out for an SMS, as for an email (``agentid.codes.found``)."""
    source = Source("sms", sms_id, project_id, sms.from_number, [sms.to_number], sms.received_at)
    return code_rows(source, found["codes"], found["links"])


def _codes_in(body: str) -> dict[str, list[dict[str, object]]]:
    """What the extractor finds in an SMS body. Run in a thread: the extractor (and its
    HTML parser, a few MB) is imported by the first SMS, in that thread, not at start."""
    from agentid.extract import extract_sms

    return extract_sms(body).as_dict()


def _kept(params: tuple[tuple[str, str], ...]) -> list[list[str]]:
    return [[k[:100], v[:MAX_PARAM_CHARS]] for k, v in params[:MAX_PARAMS]]


def _storable_sms(sms: InboundSms) -> InboundSms:
    """Every text of ``sms`` as both stores can hold it, cleaned as mail's text is
    (``mime.clean``: a NUL becomes U+FFFD, a lone surrogate U+FFFD or "?"). Done here,
    the one way in, because every source lets its sender choose the characters: a
    forwarder's JSON, the sandbox's API, a provider's signed form relaying a phone's."""
    return replace(
        sms,
        from_number=clean(sms.from_number),
        to_number=clean(sms.to_number),
        body=clean(sms.body),
        provider_id=clean(sms.provider_id),
        media=tuple(clean(url) for url in sms.media),
        params=tuple((clean(k), clean(v)) for k, v in sms.params),
    )


async def receive(rt: Runtime, session: AsyncSession, to: Recipient, sms: InboundSms) -> str | None:
    """Store ``sms`` for ``to``; its id, or None when it was stored before."""
    sms = _storable_sms(sms)
    body = sms.body[:MAX_SMS_CHARS]
    found = await asyncio.to_thread(_codes_in, body)
    sms_id = new_id()
    row: dict[str, Any] = {
        "id": sms_id,
        "project_id": to.project_id,
        "number_id": to.number_id,
        "provider": to.provider,
        "provider_message_id": sms.provider_id[:64],
        "from_number": sms.from_number[:64],
        "to_number": sms.to_number[:64],
        "body": body,
        "received_at": sms.received_at,
        "media": [url[:MAX_PARAM_CHARS] for url in sms.media],
        "params": _kept(sms.params),
        "codes": found["codes"],
        "links": found["links"],
    }
    codes = _code_rows(sms_id, to.project_id, sms, found)
    listed = {
        "id": sms_id,
        "from": row["from_number"],
        "to": row["to_number"],
        "body": body,
        "received_at": json_time(sms.received_at),
        "provider": to.provider,
        "media": row["media"],
        "codes": row["codes"],
        "links": row["links"],
    }
    events = [event_log.row(to.project_id, Kind.SMS_RECEIVED.value, sms_id, listed)]
    events += [
        event_log.row(to.project_id, Kind.CODE_FOUND.value, sms_id, code_payload(c)) for c in codes
    ]
    try:
        seqs = await PhoneRepository(session).store_sms(row, codes, events)
        await session.commit()
    except IntegrityError:  # stored before: a provider's retry
        await session.rollback()
        log.info("sms already stored", extra={"project_id": to.project_id})
        return None
    for event, seq in zip(events, seqs, strict=True):
        rt.bus.publish(Signal(to.project_id, Kind(event["kind"]), seq))
    log.info(
        "sms stored",
        extra={"project_id": to.project_id, "sms_id": sms_id, "codes": len(codes)},
    )
    return sms_id


async def detail(session: AsyncSession, project_id: str, sms_id: str) -> SmsDetail:
    row = await PhoneRepository(session).sms(sms_id, project_id)
    if row is None:
        raise NotFound(f"SMS {sms_id!r} not found")
    out = sms_out(row)
    return SmsDetail(**out.model_dump(), params=[list(p) for p in row.params])


async def messages(
    rt: Runtime, session: AsyncSession, project_id: str, q: SmsQuery, wait: float
) -> tuple[list[SmsOut], str | None]:
    """The SMS, newest first; if none match, hold until one does or ``wait`` runs out."""

    async def look() -> tuple[list[SmsOut], str | None]:
        found = await PhoneRepository(session).page(project_id, q)
        return [sms_out(r) for r in found.items], found.next(lambda r: r.id)

    return await wait_for_page(
        rt, session, project_id, look, kind=Kind.SMS_RECEIVED, to=None, wait=wait
    )
