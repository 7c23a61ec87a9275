"""HTTP routes for email: provisioning, aliases, the inbox and messages."""

from __future__ import annotations

import re
from typing import Annotated
from urllib.parse import quote

from fastapi import Body
from fastapi import Query
from fastapi import Response

from agentid.api.paging import AddressPaging
from agentid.api.paging import IdPaging
from agentid.api.paging import LongPoll
from agentid.api.paging import MessageWindow
from agentid.api.project import ProjectAdminDep
from agentid.api.project import ProjectReadDep
from agentid.api.project import ProjectWriteDep
from agentid.api.project import project_router
from agentid.api.responses import CREATES
from agentid.api.responses import DELETES
from agentid.api.responses import WITH_BODY
from agentid.api.responses import errors
from agentid.api.session import SessionDep
from agentid.auth import RuntimeDep
from agentid.email import aliases
from agentid.email import conversations
from agentid.email import hosting
from agentid.email import inbox
from agentid.email.outbound import service as outbound
from agentid.email.outbound.schemas import OutboundOut
from agentid.email.repository import InboxQuery
from agentid.email.schemas import AliasCreate
from agentid.email.schemas import AliasList
from agentid.email.schemas import AliasOut
from agentid.email.schemas import Inbox
from agentid.email.schemas import MessageOut
from agentid.email.schemas import MessagePatch
from agentid.email.schemas import ProvisionOut
from agentid.email.schemas import ProvisionRequest
from agentid.email.schemas import Thread
from agentid.email.schemas import ThreadList
from agentid.errors import Conflict
from agentid.errors import NotFound
from agentid.filters import address_filter
from agentid.filters import cursor_filter
from agentid.filters import path_id
from agentid.filters import text_filter

router = project_router("/email", "email")

# Attachments served with their own type only when a browser cannot run them.
INERT_TYPES = re.compile(r"^(image/(png|jpeg|gif|webp)|application/pdf|text/(plain|csv))$")


@router.post("/provision", response_model=ProvisionOut, responses=errors(Conflict, *WITH_BODY))
async def provision(
    project: ProjectAdminDep,
    rt: RuntimeDep,
    session: SessionDep,
    body: Annotated[ProvisionRequest | None, Body()] = None,
) -> ProvisionOut:
    return await hosting.provision(rt, session, project, body.address if body else None)


@router.post("/aliases", response_model=AliasOut, **CREATES)
async def create_alias(
    project: ProjectWriteDep, body: AliasCreate, rt: RuntimeDep, session: SessionDep
) -> AliasOut:
    return aliases.alias_out(await aliases.create_alias(rt, session, project, body))


@router.get("/aliases", response_model=AliasList, responses=errors(Conflict))
async def list_aliases(
    project: ProjectReadDep, session: SessionDep, page: AddressPaging
) -> AliasList:
    """The project's aliases, disabled ones included, oldest first (by creation, then
    address); ``before=<next>`` continues from the previous page."""
    before = address_filter(page.before, "before")
    return await aliases.list_aliases(session, project, page.limit, before)


# :path, because a local part may hold "/" (a/b@domain is a valid alias).
@router.delete("/aliases/{address:path}", response_model=AliasOut)
async def disable_alias(
    project: ProjectWriteDep, address: str, rt: RuntimeDep, session: SessionDep
) -> AliasOut:
    return aliases.alias_out(await aliases.disable_alias(rt, session, project.id, address))


@router.get("/inbox", response_model=Inbox, response_model_by_alias=True)
async def read_inbox(
    project: ProjectReadDep,
    rt: RuntimeDep,
    session: SessionDep,
    window: MessageWindow,
    to: Annotated[str | None, Query(max_length=320)] = None,
    header_to: Annotated[str | None, Query(max_length=320)] = None,
    from_: Annotated[str | None, Query(alias="from", max_length=320)] = None,
    subject: Annotated[str | None, Query(max_length=500)] = None,
    unread: bool | None = None,
    wait: LongPoll = 0,
) -> Inbox:
    q = InboxQuery(
        to=address_filter(to, "to"),
        header_to=address_filter(header_to, "header_to"),
        from_=text_filter(from_, "from"),
        subject=text_filter(subject, "subject"),
        unread=unread,
        window=window,
    )
    entries, nxt = await inbox.wait_for_page(rt, session, project.id, q, wait)
    return Inbox(messages=entries, next=nxt)


@router.get(
    "/messages/{mid}", response_model=MessageOut | OutboundOut, response_model_by_alias=True
)
async def read_message(
    project: ProjectReadDep, mid: str, session: SessionDep
) -> MessageOut | OutboundOut:
    """A received message, or a sent one (``direction`` says which) with the status of
    each recipient."""
    try:
        return await inbox.message(session, project.id, path_message_id(mid))
    except NotFound:
        sent = await outbound.sent_message(session, project.id, path_message_id(mid))
        if sent is None:
            raise
        return sent


@router.get("/threads", response_model=ThreadList)
async def list_threads(project: ProjectReadDep, session: SessionDep, page: IdPaging) -> ThreadList:
    """Conversations, newest first (by their first message); ``before=<next>`` pages back."""
    before = cursor_filter(page.before, "before", "a thread id")
    return await conversations.threads(session, project.id, before, page.limit)


@router.get("/threads/{tid}", response_model=Thread, response_model_by_alias=True)
async def read_thread(project: ProjectReadDep, tid: str, session: SessionDep) -> Thread:
    """A conversation both ways, oldest first: what was received and what was sent."""
    return await conversations.thread(session, project.id, path_message_id(tid))


@router.get(
    "/messages/{mid}/raw",
    response_class=Response,
    responses={200: {"content": {"message/rfc822": {}}}},
)
async def read_raw(project: ProjectReadDep, mid: str, session: SessionDep) -> Response:
    data = await inbox.raw(session, project.id, path_message_id(mid))
    return Response(
        data,
        media_type="message/rfc822",
        headers={"Content-Disposition": f'attachment; filename="{mid}.eml"'},
    )


@router.get(
    "/messages/{mid}/attachments/{n}",
    response_class=Response,
    responses={200: {"content": {"application/octet-stream": {}}}},
)
async def read_attachment(
    project: ProjectReadDep, mid: str, n: int, session: SessionDep
) -> Response:
    return attachment_response(
        *await inbox.attachment(session, project.id, path_message_id(mid), n)
    )


@router.patch(
    "/messages/{mid}",
    response_model=MessageOut,
    response_model_by_alias=True,
    responses=errors(*WITH_BODY),
)
async def patch_message(
    project: ProjectWriteDep, mid: str, body: MessagePatch, session: SessionDep
) -> MessageOut:
    return await inbox.mark(session, project.id, path_message_id(mid), body.unread)


@router.delete("/messages/{mid}", **DELETES)
async def delete_message(
    project: ProjectWriteDep, mid: str, rt: RuntimeDep, session: SessionDep
) -> None:
    await inbox.remove(rt, session, project.id, path_message_id(mid))


def path_message_id(mid: str) -> str:
    return path_id(mid, "message")


def attachment_response(content: bytes, content_type: str, filename: str) -> Response:
    """An attachment as a download: a type a browser could run or render as a page is
    served as bytes, never sniffed, and sandboxed should it be opened anyway."""
    media_type = content_type if INERT_TYPES.match(content_type) else "application/octet-stream"
    return Response(
        content,
        media_type=media_type,
        headers={
            "Content-Disposition": attachment_disposition(filename),
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; sandbox",
        },
    )


def attachment_disposition(filename: str) -> str:
    """attachment; with an ASCII fallback and the exact name in RFC 5987 form."""
    name = filename.replace("\\", "_").replace("/", "_").replace("\r", "").replace("\n", "")
    ascii_name = re.sub(r"[^A-Za-z0-9._ -]", "_", name)[:150] or "attachment"
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name[:150], safe='')}"
