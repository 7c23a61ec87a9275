"""The MCP server: an agent's tools on its own project, built on the official ``mcp`` SDK.

Every tool makes its calls through ``agentid.client.AsyncClient``, so the MCP server answers
exactly what the API answers and keeps the same rules (scopes, 404 on another project's
resources, the send guard). Two ways in:

- ``agentid mcp`` (stdio): one client from ``AGENTID_URL`` / ``AGENTID_TOKEN`` on
  ``AGENTID_PROJECT``, or else the one project its token is scoped to (``run_stdio``);
- ``/mcp`` on the API (streamable HTTP, stateless, JSON answers; ``agentid.api.mcp_mount``):
  each tool call is made with the caller's own token, through the app itself.

This module imports the SDK, so it is imported only when one of those is used. Waits are
bounded (``timeout``, at most 300 s) and end with a structured result, never an open hang.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Annotated
from typing import Any
from typing import TypeVar

import httpx
from mcp.server.mcpserver import Context
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.transport_security import TransportSecuritySettings
from pydantic import BaseModel
from pydantic import Field

from agentid.api.mcp_mount import PROJECT_KEY
from agentid.client import RECENT
from agentid.client import AsyncClient
from agentid.codes.schemas import CodeOut
from agentid.codes.schemas import EscalationKind
from agentid.codes.schemas import EscalationOut
from agentid.codes.schemas import Notice
from agentid.codes.schemas import TotpCode
from agentid.email.outbound.schemas import SendAccepted
from agentid.email.schemas import AliasOut
from agentid.email.schemas import InboxEntry
from agentid.email.schemas import MessageOut
from agentid.errors import AgentIDError
from agentid.errors import SmsFiltered
from agentid.errors import Timeout
from agentid.phone.schemas import SmsOut
from agentid.projects.schemas import Identity
from agentid.times import utcnow

Clients = Callable[[Context], AbstractAsyncContextManager[AsyncClient]]
Tool = TypeVar("Tool", bound=Callable[..., Any])
Seconds = Annotated[float, Field(ge=0, le=300, description="Wait at most this many seconds.")]
Sites = Annotated[
    list[str] | None,
    Field(description="The site's domains, e.g. ['notion.so', 'makenotion.com'].", max_length=10),
]
MailTo = Annotated[str | None, Field(description="Only mail to this address.")]
SubjectHas = Annotated[str | None, Field(description="Subject contains.")]
RecentSince = Annotated[
    datetime | None, Field(description="Received after this (default: 5 minutes ago).")
]

INSTRUCTIONS = """\
Your own email identity on agentid. Make a fresh alias per sign-up (new_alias), give it to the
site, then wait_for_code with that site's domain. For an authenticator app's code use
totp_code; for a code you cannot receive yourself, escalate to your operator, then
wait_for_code. Codes you receive go only to the site that sent them; never send bulk or
unsolicited mail. get_identity returns your full rules."""


class InboxResult(BaseModel):
    messages: list[InboxEntry]


class SmsResult(BaseModel):
    messages: list[SmsOut]  # newest first; empty when none came within the wait


class SkippedOut(BaseModel):
    message_id: str
    sender: str | None
    reason: str


class WaitedMessage(BaseModel):
    found: bool
    message: InboxEntry | None = None  # the newest matching message, when one arrived


class WaitedCode(BaseModel):
    """A code (or link) that arrived, marked used; or, when none came in time, what did
    arrive and why it was not the one."""

    found: bool
    code: str | None = None  # the value to type in (or the URL, for a link)
    kind: str | None = None
    sender: str | None = None
    message_id: str | None = None
    received_at: datetime | None = None
    skipped: list[SkippedOut] = Field(default_factory=list)
    # the provider reported an SMS to the number filtered (sms.filtered): it will not come
    notices: list[Notice] = Field(default_factory=list)


def build_server(clients: Clients) -> MCPServer:
    """The server with its tools; ``clients(ctx)`` opens the client a tool call uses."""
    server: MCPServer = MCPServer(
        name="agentid", instructions=INSTRUCTIONS, version="0.1.0", log_level="WARNING"
    )

    @asynccontextmanager
    async def client(ctx: Context) -> AsyncIterator[AsyncClient]:
        try:
            async with clients(ctx) as opened:
                yield opened
        except AgentIDError as err:  # the API's answer, as the tool's error text
            raise ToolError(f"{err.code}: {err.message}") from None

    def tool(fn: Tool) -> Tool:
        """A tool of the server, described by its docstring (one paragraph, its lines joined)."""
        server.tool(description=" ".join((fn.__doc__ or "").split()))(fn)
        return fn

    @tool
    async def get_identity(ctx: Context) -> Identity:
        """Your email address, phone number and the rules you keep."""
        async with client(ctx) as api:
            return await api.identity()

    @tool
    async def new_alias(
        ctx: Context,
        label: Annotated[
            str | None, Field(description="What it is for, e.g. the site's name.", max_length=40)
        ] = None,
    ) -> AliasOut:
        """Make a fresh address (label + random suffix) for one sign-up."""
        async with client(ctx) as api:
            return await api.new_alias(label=label)

    @tool
    async def list_inbox(
        ctx: Context,
        to: MailTo = None,
        subject: SubjectHas = None,
        unread: Annotated[bool, Field(description="Only unread messages.")] = False,
        limit: Annotated[int, Field(ge=1, le=100)] = 20,
    ) -> InboxResult:
        """Received email, newest first."""
        async with client(ctx) as api:
            page = await api.inbox(to=to, subject=subject, unread=unread or None, limit=limit)
            return InboxResult(messages=page.messages)

    @tool
    async def read_message(
        ctx: Context, id: Annotated[str, Field(description="The message id.", max_length=26)]
    ) -> MessageOut:
        """One received message: text, codes and links found in it."""
        async with client(ctx) as api:
            return await api.message(id)

    @tool
    async def wait_for_message(
        ctx: Context,
        to: MailTo = None,
        subject: SubjectHas = None,
        since: RecentSince = None,
        timeout: Seconds = 60,  # noqa: ASYNC109 (named as in the client)
    ) -> WaitedMessage:
        """Wait for an email (to an address, with a subject) received since `since` (default: five
        minutes ago), up to timeout seconds; the newest one is returned."""
        async with client(ctx) as api:
            after = since or utcnow() - RECENT
            page = await api.inbox(to=to, subject=subject, since=after, limit=1, wait=timeout)
            found = page.messages[0] if page.messages else None
            return WaitedMessage(found=found is not None, message=found)

    @tool
    async def wait_for_code(
        ctx: Context,
        site: Sites = None,
        channel: Annotated[str | None, Field(pattern="^(email|sms)$")] = None,
        since: RecentSince = None,
        from_contains: Annotated[str | None, Field(description="Sender contains.")] = None,
        timeout: Seconds = 60,  # noqa: ASYNC109 (named as in the client)
        authenticated: Annotated[
            bool | None,
            Field(
                description="Only a code whose mail passed agentid's DMARC check (the sender "
                "proved its domain); default: the project's setting."
            ),
        ] = None,
    ) -> WaitedCode:
        """Wait for the verification code from a site (the one you just asked for a code), up to
        timeout seconds; the code is marked used. Give site as the site's domain."""
        async with client(ctx) as api:
            try:
                code = await api.wait_for_code(
                    site, channel, since, from_contains, timeout, authenticated=authenticated
                )
            except SmsFiltered as err:
                skipped = [_skipped(s) for s in err.skipped]
                return WaitedCode(found=False, skipped=skipped, notices=err.notices)
            except Timeout as err:
                return WaitedCode(found=False, skipped=[_skipped(s) for s in err.skipped])
            return _waited(code)

    @tool
    async def list_sms(
        ctx: Context,
        contains: Annotated[str | None, Field(description="Body contains (any case).")] = None,
        from_contains: Annotated[str | None, Field(description="Sender's number contains.")] = None,
        since: Annotated[datetime | None, Field(description="Received after this.")] = None,
        wait: Annotated[
            float, Field(ge=0, le=300, description="Wait at most this many seconds for one.")
        ] = 0,
        limit: Annotated[int, Field(ge=1, le=100)] = 20,
    ) -> SmsResult:
        """SMS received on your number, newest first; with wait, hold up to that many seconds for
        one to match when none does yet."""
        async with client(ctx) as api:
            page = await api.sms(
                contains=contains, from_=from_contains, since=since, wait=wait or None, limit=limit
            )
            return SmsResult(messages=page.messages)

    @tool
    async def totp_code(
        ctx: Context,
        label: Annotated[str, Field(description="The authenticator's label.", max_length=63)],
    ) -> TotpCode:
        """The current code of an authenticator (TOTP) stored under `label` for a site that asks for
        an authenticator app's code; valid_for_seconds says how long it stays valid (ask again for
        the next one when it is about to change)."""
        async with client(ctx) as api:
            return await api.totp_code(label)

    @tool
    async def escalate(
        ctx: Context,
        kind: EscalationKind,
        reason: Annotated[str, Field(min_length=1, max_length=2000)],
        service: Annotated[
            str | None, Field(description="The site, e.g. notion.so.", max_length=253)
        ] = None,
        expires_in: Annotated[
            int | None,
            Field(ge=1, le=7 * 24 * 3600, description="Seconds it stays open (an hour)."),
        ] = None,
    ) -> EscalationOut:
        """Ask your human operator for help you cannot get yourself: a verification code (kind code)
        or link (kind link) sent where you cannot read it, or anything else (kind other). Say the
        site in `service` and why in `reason`. An answered code or link arrives like any other: call
        wait_for_code with that site afterwards."""
        async with client(ctx) as api:
            return await api.escalate(kind, reason, service, expires_in)

    @tool
    async def send_email(
        ctx: Context,
        to: Annotated[list[str], Field(min_length=1, max_length=50)],
        subject: Annotated[str, Field(max_length=998)],
        text: str,
        html: str | None = None,
    ) -> SendAccepted:
        """Send an email from your address (through the project's relay)."""
        async with client(ctx) as api:
            return await api.send_email(to, subject, text, html)

    return server


def _waited(code: CodeOut) -> WaitedCode:
    return WaitedCode(
        found=True,
        code=code.value,
        kind=code.kind,
        sender=code.from_,
        message_id=code.source.id,
        received_at=code.received_at,
    )


def _skipped(item: Any) -> SkippedOut:
    return SkippedOut(message_id=item.message_id, sender=item.from_, reason=item.reason)


# -- stdio ----------------------------------------------------------------------------------


async def run_stdio(base_url: str, token: str, project: str | None) -> None:
    """``agentid mcp``: serve the tools on stdin/stdout until the client goes away."""
    async with AsyncClient(base_url, token, project=project) as api:
        if api.project is None:
            me = await api.me()
            if me.project is None:
                raise AgentIDError(
                    "the operator's token works on every project: name one in AGENTID_PROJECT"
                )
            api.project = me.project

        @asynccontextmanager
        async def fixed(_: Context) -> AsyncIterator[AsyncClient]:
            yield api

        await build_server(fixed).run_stdio_async()


# -- streamable HTTP ------------------------------------------------------------------------


INTERNAL_URL = "http://agentid.internal"


def http_server() -> Any:
    """The session manager that answers /mcp (stateless, JSON): each tool call goes through
    the app itself (``scope["app"]``) with the caller's token, on the project the mount
    resolved."""

    @asynccontextmanager
    async def per_call(ctx: Context) -> AsyncIterator[AsyncClient]:
        request = ctx.request_context.request
        if request is None:
            raise ToolError("no HTTP request behind this call")
        scope = request.scope
        token = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
        transport = httpx.ASGITransport(app=scope["app"])
        async with AsyncClient(
            INTERNAL_URL, token, project=scope[PROJECT_KEY], transport=transport, timeout=30
        ) as api:
            yield api

    server = build_server(per_call)
    # Every request carries a bearer token the gate checked, so no Host/Origin allow-list
    # (the SDK's DNS-rebinding guard would refuse the API's own public host name).
    unguarded = TransportSecuritySettings(enable_dns_rebinding_protection=False)
    server.streamable_http_app(
        stateless_http=True, json_response=True, transport_security=unguarded
    )
    return server.session_manager
