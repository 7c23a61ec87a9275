"""HTTP route for codes: what an agent calls right after pressing "send me a code"."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from typing import Literal

from fastapi import APIRouter
from fastapi import Query

from agentid.api.paging import IdCursor
from agentid.api.paging import LongPoll
from agentid.api.project import ProjectReadDep
from agentid.api.responses import ON_PROJECT
from agentid.api.responses import errors
from agentid.api.session import SessionDep
from agentid.auth import PrincipalDep
from agentid.auth import RuntimeDep
from agentid.auth import require_scope
from agentid.codes.repository import CodeQuery
from agentid.codes.schemas import CodeList
from agentid.codes.service import cursor
from agentid.codes.service import default_since
from agentid.codes.service import wait_for_codes
from agentid.codes.sites import sites
from agentid.filters import address_filter
from agentid.filters import cursor_filter
from agentid.filters import since_utc
from agentid.filters import text_filter

router = APIRouter(tags=["codes"], responses=errors(*ON_PROJECT))


@router.get("/projects/{project_id}/codes", response_model=CodeList, response_model_by_alias=True)
async def read_codes(
    project: ProjectReadDep,
    who: PrincipalDep,
    rt: RuntimeDep,
    session: SessionDep,
    channel: Literal["email", "sms", "escalation"] | None = None,
    kind: Literal["code", "link"] | None = None,
    since: datetime | None = None,
    after: IdCursor = None,
    before: IdCursor = None,
    from_: Annotated[str | None, Query(alias="from", max_length=320)] = None,
    to: Annotated[str | None, Query(max_length=320)] = None,
    header_to: Annotated[str | None, Query(max_length=320)] = None,
    unused: bool = False,
    unexpired: bool = False,
    authenticated: bool | None = None,
    site: Annotated[list[str] | None, Query(max_length=50)] = None,
    consume: bool = False,
    limit: Annotated[int | None, Query(ge=1, le=500)] = None,
    wait: LongPoll = 0,
) -> CodeList:
    """Codes and links, newest first. ``site=`` (repeatable) keeps email from that site
    only (the registrable domain of From or of a verified DKIM signature; SMS only with
    ``channel=sms``) and makes ``since`` default to five minutes ago. ``authenticated=true``
    keeps codes whose message passed agentid's own DMARC check (or, for a domain without
    DMARC, an aligned DKIM signature); a wait for one ends at most
    ``AGENTID_AUTH_TIMEOUT_SECONDS`` after the message arrived. An empty answer lists
    under ``skipped`` what arrived and why it was left out. The operator's answer to an
    escalation is a code of ``channel=escalation``, authenticated, and of the escalation's
    site when its service named one."""
    if consume:
        require_scope(who, "write")
    if authenticated is None and project.authenticated_codes and channel != "sms":
        authenticated = True  # the project's default; an SMS has no sender to prove
    wanted = sites(site or [])
    since = default_since(since_utc(since), wanted)
    after = cursor_filter(after, "after", "a code id")
    before = cursor_filter(before, "before", "a code id")
    position = await cursor(session, project.id, before) if before is not None else None
    q = CodeQuery(
        channel=channel,
        kind=kind,
        since=since,
        after=after,
        before=position,
        from_=text_filter(from_, "from"),
        to=address_filter(to, "to"),
        header_to=address_filter(header_to, "header_to"),
        unused=unused,
        unexpired=unexpired,
        authenticated=authenticated,
        sites=wanted,
        consume=consume,
        limit=limit if limit is not None else (1 if consume else 50),
    )
    codes, nxt, said, left_out = await wait_for_codes(rt, session, project.id, q, wait)
    return CodeList(codes=codes, next=nxt, notices=said, skipped=left_out)
