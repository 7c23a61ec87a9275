"""Mail pages: the inbox (filters, paging, live), one message (its HTML sandboxed, its
attachments), and aliases."""

from __future__ import annotations

import asyncio
import base64
from typing import Annotated

from fastapi import APIRouter
from fastapi import Depends
from fastapi import Form
from fastapi import Query
from fastapi import Request
from starlette.responses import HTMLResponse
from starlette.responses import RedirectResponse
from starlette.responses import Response

from agentid.api.paging import IdCursor
from agentid.api.project import ProjectReadDep
from agentid.api.project import ProjectWriteDep
from agentid.api.session import SessionDep
from agentid.auth import RuntimeDep
from agentid.email import aliases
from agentid.email import inbox
from agentid.email.repository import InboxQuery
from agentid.email.routes import attachment_response
from agentid.email.routes import path_message_id
from agentid.email.schemas import AliasCreate
from agentid.email.schemas import MessageOut
from agentid.errors import ValidationFailed
from agentid.filters import address_filter
from agentid.filters import cursor_filter
from agentid.filters import text_filter
from agentid.store.db import AsyncSession
from agentid.store.repository import Window
from agentid.web import message_html
from agentid.web.deps import Checkbox
from agentid.web.templating import filtered
from agentid.web.templating import page

router = APIRouter(prefix="/projects/{project_id}")

PAGE = 50
INLINE_BYTES = 5 * 1024 * 1024  # inline images made data: URLs, per message
INLINE_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp")


def _checked(value: str | None) -> str | None:
    return value.strip() or None if value is not None else None


@router.get("/inbox")
async def inbox_page(
    request: Request,
    project: ProjectReadDep,
    session: SessionDep,
    to: Annotated[str | None, Query(max_length=320)] = None,
    from_: Annotated[str | None, Query(alias="from", max_length=320)] = None,
    subject: Annotated[str | None, Query(max_length=500)] = None,
    unread: Checkbox = None,
    before: IdCursor = None,
    part: Annotated[str | None, Query(max_length=8)] = None,
) -> HTMLResponse:
    """Newest first; ``part=rows`` answers the rows alone (what the live update fetches)."""
    filters = {"to": _checked(to), "from": _checked(from_), "subject": _checked(subject)}
    q = InboxQuery(
        to=address_filter(filters["to"], "to"),
        from_=text_filter(filters["from"], "from"),
        subject=text_filter(filters["subject"], "subject"),
        unread=True if unread else None,
        window=Window(before=cursor_filter(_checked(before), "before", "a message id"), limit=PAGE),
    )
    entries, nxt = await inbox.page(session, project.id, q)
    await session.commit()
    kept = {name: value for name, value in filters.items() if value} | (
        {"unread": "1"} if unread else {}
    )
    return page(
        request, "_inbox_rows.html" if part == "rows" else "inbox.html",
        **filtered(f"/ui/projects/{project.id}/inbox", kept),
        messages=entries, next=nxt, filters=filters, unread=bool(unread),
        paged=q.window.before is not None, project_id=project.id, section="inbox",
        title=f"{project.id}: inbox",
    )  # fmt: skip


async def shown_message(project: ProjectReadDep, mid: str, session: SessionDep) -> MessageOut:
    """The received message ``mid`` of the page's project (404 when there is none)."""
    return await inbox.message(session, project.id, path_message_id(mid))


ShownMessage = Annotated[MessageOut, Depends(shown_message)]


@router.get("/messages/{mid}")
async def message_page(
    request: Request,
    project: ProjectReadDep,
    m: ShownMessage,
    session: SessionDep,
    remote: Checkbox = None,
) -> HTMLResponse:
    await session.commit()
    return page(
        request, "message.html", m=m, remote=bool(remote), project_id=project.id,
        section="inbox", title=m.subject or "(no subject)",
    )  # fmt: skip


async def _inline(session: AsyncSession, project_id: str, m: MessageOut) -> dict[str, str]:
    """``data:`` URLs of the inline images the HTML names, within INLINE_BYTES."""
    wanted = await asyncio.to_thread(message_html.cids, m.html or "")
    urls: dict[str, str] = {}
    budget = INLINE_BYTES
    for a in m.attachments:
        cid = (a.content_id or "").strip("<>")
        if cid not in wanted or a.content_type not in INLINE_TYPES or a.size > budget:
            continue
        data, content_type, _ = await inbox.attachment(session, project_id, m.id, a.index)
        budget -= len(data)
        urls[cid] = f"data:{content_type};base64,{base64.b64encode(data).decode()}"
    return urls


@router.get("/messages/{mid}/html")
async def message_html_page(
    project: ProjectReadDep, m: ShownMessage, session: SessionDep, remote: Checkbox = None
) -> Response:
    """The message's HTML alone, for the sandboxed frame of the message page."""
    inline = await _inline(session, project.id, m)
    await session.commit()
    html = await asyncio.to_thread(message_html.shown, m.html or "", inline, bool(remote))
    return HTMLResponse(
        html,
        headers={
            "Content-Security-Policy": message_html.policy(bool(remote)),
            "X-Frame-Options": "SAMEORIGIN",
        },
    )


@router.get("/messages/{mid}/attachments/{n}")
async def attachment(project: ProjectReadDep, mid: str, n: int, session: SessionDep) -> Response:
    """An attachment, as a download (the API's rules: a type a browser could run is
    served as bytes)."""
    return attachment_response(
        *await inbox.attachment(session, project.id, path_message_id(mid), n)
    )


@router.get("/aliases")
async def aliases_page(
    request: Request,
    project: ProjectReadDep,
    session: SessionDep,
    before: Annotated[str | None, Query(max_length=320)] = None,
    made: Annotated[str | None, Query(max_length=320)] = None,
) -> HTMLResponse:
    listed = await aliases.list_aliases(session, project, PAGE, address_filter(before, "before"))
    await session.commit()
    return page(
        request, "aliases.html", aliases=listed.aliases, next=listed.next, made=made,
        project_id=project.id, section="aliases", title=f"{project.id}: aliases",
    )  # fmt: skip


@router.post("/aliases")
async def create_alias(
    project: ProjectWriteDep,
    rt: RuntimeDep,
    session: SessionDep,
    label: Annotated[str, Form(max_length=32)] = "",
) -> Response:
    try:
        body = AliasCreate(label=label.strip() or None)
    except ValueError as exc:
        raise ValidationFailed("a label is a-z, 0-9 and hyphens, at most 32") from exc
    made = await aliases.create_alias(rt, session, project, body)
    return RedirectResponse(
        f"/ui/projects/{project.id}/aliases?made={made.address}", status_code=303
    )


@router.post("/aliases/disable")
async def disable_alias(
    project: ProjectWriteDep,
    rt: RuntimeDep,
    session: SessionDep,
    address: Annotated[str, Form(max_length=320)],
) -> Response:
    await aliases.disable_alias(rt, session, project.id, address)
    return RedirectResponse(f"/ui/projects/{project.id}/aliases", status_code=303)
