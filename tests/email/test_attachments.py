"""Attachments are stored at digest time: listed with their Content-ID, downloaded from
their own rows (the raw message is not parsed again)."""

from __future__ import annotations

import asyncio
from email.message import EmailMessage

from sqlalchemy import Engine
from sqlalchemy import delete

from agentid.store.db import create_sync_engine
from agentid.store.tables import MessageRaw
from tests.conftest import Service
from tests.service import deliver
from tests.service import hosted

MESSAGES = "/projects/acme/email/messages"
LOGO = b"\x89PNG\r\n\x1a\n" + bytes(range(64))


def message_with_inline_image(to: str) -> bytes:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "shop@shop.example", to, "Logo"
    msg.set_content("Plain.\n")
    msg.add_alternative('<p><img src="cid:logo@shop"> Hello</p>\n', subtype="html")
    msg.get_payload()[1].add_related(
        LOGO, maintype="image", subtype="png", cid="<logo@shop>", filename="logo.png"
    )
    msg.add_attachment(b"%PDF-1.4", maintype="application", subtype="pdf", filename="a.pdf")
    return msg.as_bytes(policy=msg.policy.clone(linesep="\r\n"))


async def test_listed_with_content_ids_and_served_without_the_raw(service: Service) -> None:
    await hosted(service, "acme", "acme.test")
    mid = (
        await deliver(
            service, "acme", "agent@acme.test", message_with_inline_image("agent@acme.test")
        )
    )["id"]
    m = (await service.http.get(f"{MESSAGES}/{mid}")).json()
    assert [
        (a["index"], a["filename"], a["content_type"], a["size"], a["content_id"])
        for a in m["attachments"]
    ] == [
        (0, "logo.png", "image/png", len(LOGO), "logo@shop"),
        (1, "a.pdf", "application/pdf", 8, None),
    ]
    engine = create_sync_engine(service.running.settings)
    try:  # with the raw message gone, only the attachment rows can answer
        await asyncio.to_thread(_delete_raw, engine, mid)
    finally:
        engine.dispose()
    assert (await service.http.get(f"{MESSAGES}/{mid}/raw")).status_code == 404
    r = await service.http.get(f"{MESSAGES}/{mid}/attachments/0")
    assert r.status_code == 200 and r.content == LOGO
    r = await service.http.get(f"{MESSAGES}/{mid}/attachments/1")
    assert r.status_code == 200 and r.content == b"%PDF-1.4"


def _delete_raw(engine: Engine, mid: str) -> None:
    with engine.begin() as conn:
        conn.execute(delete(MessageRaw).where(MessageRaw.message_id == mid))
