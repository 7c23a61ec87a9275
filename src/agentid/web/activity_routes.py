"""SMS, the outbox (with retry), webhook deliveries (with replay), and the event streams
the pages update themselves from."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter
from fastapi import Header
from fastapi import Path
from fastapi import Request
from sse_starlette import EventSourceResponse
from starlette.responses import HTMLResponse
from starlette.responses import RedirectResponse
from starlette.responses import Response

from agentid.api.event_stream import Allowed
from agentid.api.event_stream import event_stream
from agentid.api.event_stream import resume_point
from agentid.api.paging import IdCursor
from agentid.api.project import ProjectAdminDep
from agentid.api.project import ProjectReadDep
from agentid.api.project import ProjectSendDep
from agentid.api.session import SessionDep
from agentid.api.state import DispatcherDep
from agentid.api.state import SenderDep
from agentid.auth import AdminDep
from agentid.auth import RuntimeDep
from agentid.email.outbound import policy as send_policy
from agentid.email.outbound import service as outbound
from agentid.email.routes import path_message_id
from agentid.filters import cursor_filter
from agentid.phone import inbound as sms
from agentid.phone.repository import SmsQuery
from agentid.runtime import Runtime
from agentid.store.repository import Window
from agentid.web.deps import SignedInDep
from agentid.web.sessions import SignedIn
from agentid.web.sessions import resume_by_hash
from agentid.web.templating import page
from agentid.webhooks import service as webhooks

router = APIRouter()

PAGE = 50
DELIVERIES = 20  # per webhook on its page
LastEventId = Annotated[str | None, Header(max_length=32)]


@router.get("/projects/{project_id}/sms")
async def sms_page(
    request: Request,
    project: ProjectReadDep,
    rt: RuntimeDep,
    session: SessionDep,
    before: IdCursor = None,
) -> HTMLResponse:
    window = Window(before=cursor_filter(before or None, "before", "an SMS id"), limit=PAGE)
    found, nxt = await sms.messages(rt, session, project.id, SmsQuery(window=window), 0)
    await session.commit()
    return page(
        request, "sms.html", messages=found, next=nxt, project_id=project.id, section="sms",
        title=f"{project.id}: SMS",
    )  # fmt: skip


@router.get("/projects/{project_id}/outbox")
async def outbox_page(
    request: Request,
    project: ProjectReadDep,
    session: SessionDep,
    before: IdCursor = None,
) -> HTMLResponse:
    before = cursor_filter(before or None, "before", "a message id")
    messages, nxt = await outbound.outbox(session, project.id, before, PAGE)
    failed = [r.address for m in messages for r in m.recipients if r.status == "failed"]
    suppressed = await send_policy.suppressed(session, project.id, failed)
    await session.commit()
    retryable = {
        m.id for m in messages
        if any(r.status == "failed" and r.address.lower() not in suppressed for r in m.recipients)
    }  # fmt: skip
    return page(
        request, "outbox.html", messages=messages, next=nxt, suppressed=suppressed,
        retryable=retryable, project_id=project.id, section="outbox",
        title=f"{project.id}: outbox",
    )  # fmt: skip


@router.post("/projects/{project_id}/outbox/{mid}/retry")
async def retry(
    project: ProjectSendDep, mid: str, session: SessionDep, sender: SenderDep
) -> Response:
    await outbound.retry(session, project.id, path_message_id(mid))
    sender.wake()
    return RedirectResponse(f"/ui/projects/{project.id}/outbox", status_code=303)


@router.get("/projects/{project_id}/webhooks")
async def webhooks_page(
    request: Request, project: ProjectAdminDep, session: SessionDep
) -> HTMLResponse:
    listed = (await webhooks.listed(session, project.id)).webhooks
    sent = {
        w.id: (await webhooks.deliveries(session, project.id, w.id, None, DELIVERIES)).deliveries
        for w in listed
    }
    await session.commit()
    return page(
        request, "webhooks.html", webhooks=listed, deliveries=sent, project_id=project.id,
        section="webhooks", title=f"{project.id}: webhooks",
    )  # fmt: skip


@router.post("/projects/{project_id}/webhooks/{webhook_id}/deliveries/{delivery_id}/replay")
async def replay(
    project: ProjectAdminDep,
    webhook_id: Annotated[str, Path(max_length=26)],
    delivery_id: Annotated[str, Path(max_length=26)],
    session: SessionDep,
    worker: DispatcherDep,
) -> Response:
    await webhooks.replay(session, project.id, webhook_id, delivery_id)
    worker.wake()
    return RedirectResponse(f"/ui/projects/{project.id}/webhooks", status_code=303)


def _still(rt: Runtime, signed: SignedIn) -> Allowed:
    async def allowed() -> bool:
        async with rt.sessions() as session:
            return await resume_by_hash(rt, session, signed.id_hash) is not None

    return allowed


@router.get("/projects/{project_id}/events")
async def project_events(
    project: ProjectReadDep, rt: RuntimeDep, signed: SignedInDep, last_event_id: LastEventId = None
) -> EventSourceResponse:
    """The project's events, as ``GET /projects/{id}/events`` sends them, for as long as
    the session lasts."""
    return await event_stream(rt, project.id, resume_point(last_event_id), _still(rt, signed))


@router.get("/events")
async def every_project_events(
    _: AdminDep, rt: RuntimeDep, signed: SignedInDep, last_event_id: LastEventId = None
) -> EventSourceResponse:
    return await event_stream(rt, None, resume_point(last_event_id), _still(rt, signed))
