"""Typed clients of the agentid HTTP API (used by the CLI, usable from any Python code).

    with Client("http://127.0.0.1:8400", token) as client:
        client.create_project("acme", domain="acme.test")
        page = client.codes("acme", unused=True, consume=True, limit=1, wait=60)
        print(page.codes[0].value)

    async with AsyncClient("http://127.0.0.1:8400", token) as client:
        inbox = await client.inbox("acme", wait=60)

Both clients have the same methods and return the pydantic models of the features'
``schemas.py`` (``raw`` and ``attachment`` return bytes; deleting returns None). Each call is
written once, in ``_Calls``, as a ``Call``: method, path, query, body and how to read the
answer, without doing any I/O; ``Client`` sends it over ``httpx.Client`` and ``AsyncClient``
over ``httpx.AsyncClient``. A non-2xx answer raises the matching ``agentid.errors`` class; a
server that cannot be reached raises ``Unreachable``; an answer that is not the model it should
be raises a 502 ``bad_response``. Tests hand in an ``httpx`` transport instead of a network.
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any, Generic, Self, TypedDict, TypeVar, Unpack

import httpx
from pydantic import BaseModel

from agentid.calls import Call, json_body, query, read_bytes, read_nothing, reads, segment
from agentid.calls import endpoint as _endpoint
from agentid.client_codes import SecondFactors
from agentid.codes.schemas import CodeList, CodeOut
from agentid.dns.schemas import DnsApplyOut, DnsPlanOut, DnsVerifyOut
from agentid.email.outbound.schemas import (
    Attachment,
    OutboundOut,
    Outbox,
    SendAccepted,
    SendRequest,
)
from agentid.email.schemas import AliasList, AliasOut, Inbox, MessageOut, ProvisionOut
from agentid.errors import (
    SmsFiltered,
    Timeout,
    Unauthorized,
    Unreachable,
    ValidationFailed,
    from_response,
)
from agentid.phone.schemas import (
    ForwarderCreated,
    ForwarderList,
    GcResult,
    PhoneNumberOut,
    SmsDetail,
    SmsList,
    SmsOut,
)
from agentid.projects.schemas import Identity, Me, ProjectList, ProjectOut, TokenList, TokenOut
from agentid.times import utcnow
from agentid.webhooks.schemas import (
    DeliveryList,
    DeliveryOut,
    WebhookCreated,
    WebhookList,
    WebhookOut,
)

__all__ = [
    "AsyncClient", "Call", "Client", "CodeFilter", "InboxFilter", "Paging", "SmsFilter",
    "SmsFiltered", "Timeout",
]  # fmt: skip

DEFAULT_URL = "http://127.0.0.1:8400"
RECENT = timedelta(minutes=5)  # wait_for_code's default since: the code often lands first
T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)
Transport = TypeVar("Transport", httpx.BaseTransport, httpx.AsyncBaseTransport)


class Paging(TypedDict, total=False):
    """One page of a list: at most ``limit`` items, after the cursor ``before`` (the previous
    page's ``next``); only what is given is sent."""

    limit: int | None
    before: str | None


class _Arrivals(Paging, total=False):
    """What the inbox and the codes are filtered by (only what is given is sent)."""

    to: str | None  # an address agentid accepted the mail for
    header_to: str | None  # an address in the To/Cc the sender wrote
    from_: str | None
    since: str | datetime | None
    after: str | None  # only newer than this id
    wait: float | None  # long-poll: wait up to this many seconds for something to match


class InboxFilter(_Arrivals, total=False):
    subject: str | None
    unread: bool | None


class SmsFilter(Paging, total=False):
    """What the SMS list is filtered by (only what is given is sent)."""

    from_: str | None  # the sender's number contains this
    contains: str | None  # the body contains this (any case)
    since: str | datetime | None
    after: str | None  # only newer than this id
    wait: float | None  # long-poll: wait up to this many seconds for one to match


class CodeFilter(_Arrivals, total=False):
    channel: str | None  # email | sms
    kind: str | None  # code | link
    site: str | list[str] | None  # only codes from this site (its registrable domain)
    authenticated: bool | None
    unused: bool | None
    consume: bool | None  # mark the codes returned as used


@contextmanager
def _mapped(base_url: str, path: str) -> Iterator[None]:
    """httpx's errors as ours, the most specific first (the one place the clients map them)."""
    try:
        yield
    except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
        raise Unreachable(
            f"the agentid server at {base_url} is not reachable ({exc or 'no answer'}); "
            "start it with `agentid serve` or point AGENTID_URL at it"
        ) from exc
    except httpx.TimeoutException as exc:
        raise from_response(
            504, "timeout", f"the agentid server at {base_url} did not answer in time"
        ) from exc
    except httpx.HTTPError as exc:
        raise from_response(502, "transport", f"request to {base_url}{path} failed: {exc}") from exc


class _Calls(SecondFactors, ABC, Generic[Transport]):
    """Every call of the API, written once; ``Client`` and ``AsyncClient`` make them (the
    TOTP and escalation calls in ``agentid.client_codes``)."""

    def __init__(
        self,
        base_url: str | None = None,
        token: str | None = None,
        *,
        project: str | None = None,
        transport: Transport | None = None,
        timeout: float = 30,
    ) -> None:
        base_url = base_url or os.environ.get("AGENTID_URL") or DEFAULT_URL
        token = token or os.environ.get("AGENTID_TOKEN")
        if not token:
            raise Unauthorized("no token: pass one or set AGENTID_TOKEN")
        self.base_url = base_url.rstrip("/")
        self.project = project or os.environ.get("AGENTID_PROJECT") or None
        self.timeout = timeout
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        self._connect(
            transport, {"base_url": self.base_url, "headers": headers, "timeout": timeout}
        )

    @abstractmethod
    def _connect(self, transport: Transport | None, options: dict[str, Any]) -> None:
        """Open this client's kind of httpx client (``Client``: sync, ``AsyncClient``:
        async) with ``options``."""

    def _project(self, project_id: str | None) -> str:
        """The project a call is on: the one given, else the client's own."""
        chosen = project_id or self.project
        if not chosen:
            raise ValidationFailed("no project: name it, or set AGENTID_PROJECT (project=)")
        return chosen

    # -- who and what -----------------------------------------------------------------------

    @_endpoint
    def me(self) -> Call[Me]:
        """Who the token is: the operator, or a project token and its scopes."""
        return Call("GET", "/me", reads(Me))

    @_endpoint
    def identity(self, project_id: str | None = None) -> Call[Identity]:
        """The project's address, number and constitution (for the agent's prompt)."""
        path = f"/projects/{segment(self._project(project_id))}/identity"
        return Call("GET", path, reads(Identity))

    # -- projects and tokens ----------------------------------------------------------------

    @_endpoint
    def create_project(self, id: str, domain: str | None = None) -> Call[ProjectOut]:
        body = json_body(id=id, domain=domain)
        return Call("POST", "/projects", reads(ProjectOut), json=body)

    @_endpoint
    def list_projects(self, **page: Unpack[Paging]) -> Call[ProjectList]:
        return _page("/projects", ProjectList, page)

    @_endpoint
    def get_project(self, id: str) -> Call[ProjectOut]:
        return Call("GET", f"/projects/{segment(id)}", reads(ProjectOut))

    @_endpoint
    def update_project(
        self,
        id: str,
        *,
        catch_all: bool | None = None,
        retention_days: int | None = None,
        authenticated_codes: bool | None = None,
    ) -> Call[ProjectOut]:
        body = json_body(
            catch_all=catch_all,
            retention_days=retention_days,
            authenticated_codes=authenticated_codes,
        )
        return Call("PATCH", f"/projects/{segment(id)}", reads(ProjectOut), json=body)

    @_endpoint
    def create_token(
        self, project_id: str, scopes: list[str] | None = None, name: str | None = None
    ) -> Call[TokenOut]:
        path = f"/projects/{segment(project_id)}/tokens"
        return Call("POST", path, reads(TokenOut), json=json_body(scopes=scopes, name=name))

    @_endpoint
    def list_tokens(self, project_id: str, **page: Unpack[Paging]) -> Call[TokenList]:
        return _page(f"/projects/{segment(project_id)}/tokens", TokenList, page)

    @_endpoint
    def revoke_token(self, project_id: str, token_id: str) -> Call[None]:
        return Call(
            "DELETE", f"/projects/{segment(project_id)}/tokens/{segment(token_id)}", read_nothing
        )

    # -- email identity ---------------------------------------------------------------------

    @_endpoint
    def provision_email(self, project_id: str, address: str | None = None) -> Call[ProvisionOut]:
        path = f"/projects/{segment(project_id)}/email/provision"
        return Call("POST", path, reads(ProvisionOut), json=json_body(address=address))

    @_endpoint
    def dns_plan(self, project_id: str) -> Call[DnsPlanOut]:
        """The records the project's domain needs, the last apply and verification."""
        return Call("GET", f"/projects/{segment(project_id)}/email/dns", reads(DnsPlanOut))

    @_endpoint
    def apply_dns(self, project_id: str, force: bool = False) -> Call[DnsApplyOut]:
        """Write the records through the project's DNS provider; ``force`` replaces
        records agentid did not create that stand in the way."""
        path = f"/projects/{segment(project_id)}/email/dns"
        return Call("POST", path, reads(DnsApplyOut), json={"force": force})

    @_endpoint
    def verify_dns(self, project_id: str) -> Call[DnsVerifyOut]:
        """Resolve every record again at the configured name servers."""
        path = f"/projects/{segment(project_id)}/email/dns/verify"
        return Call("POST", path, reads(DnsVerifyOut))

    @_endpoint
    def new_alias(
        self,
        project_id: str | None = None,
        label: str | None = None,
        local_part: str | None = None,
        expires_at: str | datetime | None = None,
    ) -> Call[AliasOut]:
        """A new address: ``label`` plus a random suffix, or exactly ``local_part``."""
        body = json_body(label=label, local_part=local_part, expires_at=expires_at)
        path = f"/projects/{segment(self._project(project_id))}/email/aliases"
        return Call("POST", path, reads(AliasOut), json=body)

    @_endpoint
    def list_aliases(self, project_id: str, **page: Unpack[Paging]) -> Call[AliasList]:
        return _page(f"/projects/{segment(project_id)}/email/aliases", AliasList, page)

    @_endpoint
    def delete_alias(self, project_id: str, address: str) -> Call[None]:
        path = f"/projects/{segment(project_id)}/email/aliases/{segment(address)}"
        return Call("DELETE", path, read_nothing)

    # -- messages ---------------------------------------------------------------------------

    @_endpoint
    def inbox(self, project_id: str | None = None, **filters: Unpack[InboxFilter]) -> Call[Inbox]:
        """Received mail, newest first."""
        path = f"/projects/{segment(self._project(project_id))}/email/inbox"
        return Call("GET", path, reads(Inbox), params=query(**filters), wait=filters.get("wait"))

    @_endpoint
    def message(self, project_id: str, mid: str | None = None) -> Call[MessageOut]:
        """A received message: ``message(project, mid)``, or ``message(mid)`` on the client's
        project."""
        if mid is None:
            project_id, mid = self._project(None), project_id
        return Call("GET", _message_path(project_id, mid), reads(MessageOut))

    @_endpoint
    def raw(self, project_id: str, mid: str) -> Call[bytes]:
        return Call("GET", _message_path(project_id, mid) + "/raw", read_bytes)

    @_endpoint
    def attachment(self, project_id: str, mid: str, index: int) -> Call[bytes]:
        return Call("GET", f"{_message_path(project_id, mid)}/attachments/{index}", read_bytes)

    @_endpoint
    def mark_read(self, project_id: str, mid: str) -> Call[MessageOut]:
        body = {"unread": False}
        return Call("PATCH", _message_path(project_id, mid), reads(MessageOut), json=body)

    @_endpoint
    def delete_message(self, project_id: str, mid: str) -> Call[None]:
        return Call("DELETE", _message_path(project_id, mid), read_nothing)

    # -- sending ----------------------------------------------------------------------------

    @_endpoint
    def send(self, project_id: str, request: SendRequest) -> Call[SendAccepted]:
        """Queue a message; its fate is in ``outbox`` / ``sent_message``."""
        return _send(project_id, request)

    @_endpoint
    def send_email(
        self,
        to: str | list[str],
        subject: str = "",
        text: str | None = None,
        html: str | None = None,
        *,
        from_: str | None = None,
        cc: list[str] | None = None,
        bcc: list[str] | None = None,
        reply_to: str | None = None,
        in_reply_to: str | None = None,
        attachments: list[Attachment] | None = None,
        idempotency_key: str | None = None,
        project: str | None = None,
    ) -> Call[SendAccepted]:
        """Queue an email from the project's address (or ``from_``, on its domain)."""
        request = SendRequest.model_validate(
            {
                "from": from_, "to": [to] if isinstance(to, str) else to, "cc": cc or [],
                "bcc": bcc or [], "reply_to": reply_to, "subject": subject, "text": text,
                "html": html, "attachments": attachments or [], "in_reply_to": in_reply_to,
                "idempotency_key": idempotency_key,
            }
        )  # fmt: skip
        return _send(self._project(project), request)

    @_endpoint
    def outbox(self, project_id: str, **page: Unpack[Paging]) -> Call[Outbox]:
        """Sent and sending mail, newest first, with each recipient's status."""
        return _page(f"/projects/{segment(project_id)}/email/outbox", Outbox, page)

    @_endpoint
    def sent_message(self, project_id: str, mid: str) -> Call[OutboundOut]:
        return Call("GET", _message_path(project_id, mid), reads(OutboundOut))

    # -- phone ------------------------------------------------------------------------------

    @_endpoint
    def provision_phone(
        self,
        project_id: str,
        country: str | None = None,
        area_code: str | None = None,
        type: str | None = None,
    ) -> Call[PhoneNumberOut]:
        """Buy the project's number (local, mobile or tollfree) from its phone provider."""
        path = f"/projects/{segment(project_id)}/phone/provision"
        body = json_body(country=country, area_code=area_code, type=type)
        return Call("POST", path, reads(PhoneNumberOut), json=body)

    @_endpoint
    def phone(self, project_id: str) -> Call[PhoneNumberOut]:
        return Call("GET", f"/projects/{segment(project_id)}/phone", reads(PhoneNumberOut))

    @_endpoint
    def keep_phone(self, project_id: str, keep: bool = True) -> Call[PhoneNumberOut]:
        """Pin (or unpin) the number: the inactivity collector leaves a pinned one."""
        path = f"/projects/{segment(project_id)}/phone"
        return Call("PATCH", path, reads(PhoneNumberOut), json={"keep": keep})

    @_endpoint
    def release_phone(self, project_id: str) -> Call[PhoneNumberOut]:
        """Release the number at the provider; its SMS stay."""
        return Call("DELETE", f"/projects/{segment(project_id)}/phone", reads(PhoneNumberOut))

    @_endpoint
    def collect_phone(
        self, project_id: str, inactive_days: int, dry_run: bool = False
    ) -> Call[GcResult]:
        """Release the number if unpinned and without SMS for ``inactive_days``."""
        path = f"/projects/{segment(project_id)}/phone/gc"
        body = {"inactive_days": inactive_days, "dry_run": dry_run}
        return Call("POST", path, reads(GcResult), json=body)

    @_endpoint
    def sms(self, project_id: str | None = None, **filters: Unpack[SmsFilter]) -> Call[SmsList]:
        """Received SMS, newest first (``wait`` long-polls for one to match)."""
        path = f"/projects/{segment(self._project(project_id))}/phone/messages"
        return Call("GET", path, reads(SmsList), params=query(**filters), wait=filters.get("wait"))

    @_endpoint
    def sms_message(self, project_id: str, sms_id: str) -> Call[SmsDetail]:
        """One SMS with every field its provider sent."""
        path = f"/projects/{segment(project_id)}/phone/messages/{segment(sms_id)}"
        return Call("GET", path, reads(SmsDetail))

    @_endpoint
    def create_forwarder(
        self, project_id: str, number: str, label: str | None = None
    ) -> Call[ForwarderCreated]:
        """Register a human's own phone; its ``webhook_url`` and ``secret`` show once."""
        path = f"/projects/{segment(project_id)}/phone/forwarders"
        return Call(
            "POST", path, reads(ForwarderCreated), json=json_body(number=number, label=label)
        )

    @_endpoint
    def list_forwarders(self, project_id: str) -> Call[ForwarderList]:
        path = f"/projects/{segment(project_id)}/phone/forwarders"
        return Call("GET", path, reads(ForwarderList))

    @_endpoint
    def revoke_forwarder(self, project_id: str, forwarder_id: str) -> Call[None]:
        path = f"/projects/{segment(project_id)}/phone/forwarders/{segment(forwarder_id)}"
        return Call("DELETE", path, read_nothing)

    @_endpoint
    def inject_sms(self, to: str, from_: str, body: str) -> Call[SmsOut]:
        """Deliver an SMS to a sandbox number (the sandbox provider only; admin)."""
        return Call(
            "POST", "/sandbox/sms", reads(SmsOut), json={"to": to, "from": from_, "body": body}
        )

    # -- webhooks ---------------------------------------------------------------------------

    @_endpoint
    def create_webhook(self, project_id: str, url: str, events: list[str]) -> Call[WebhookCreated]:
        """Post the project's events of ``events`` to ``url``, signed; the ``secret`` (a
        Standard Webhooks ``whsec_`` secret) shows once."""
        path = f"/projects/{segment(project_id)}/webhooks"
        body = {"url": url, "events": events}
        return Call("POST", path, reads(WebhookCreated), json=body)

    @_endpoint
    def list_webhooks(self, project_id: str) -> Call[WebhookList]:
        return Call("GET", f"/projects/{segment(project_id)}/webhooks", reads(WebhookList))

    @_endpoint
    def webhook(self, project_id: str, webhook_id: str) -> Call[WebhookOut]:
        return Call("GET", _webhook_path(project_id, webhook_id), reads(WebhookOut))

    @_endpoint
    def delete_webhook(self, project_id: str, webhook_id: str) -> Call[None]:
        return Call("DELETE", _webhook_path(project_id, webhook_id), read_nothing)

    @_endpoint
    def webhook_deliveries(
        self, project_id: str, webhook_id: str, **page: Unpack[Paging]
    ) -> Call[DeliveryList]:
        """The webhook's deliveries, newest first, with their attempts."""
        return _page(_webhook_path(project_id, webhook_id) + "/deliveries", DeliveryList, page)

    @_endpoint
    def replay_delivery(
        self, project_id: str, webhook_id: str, delivery_id: str
    ) -> Call[DeliveryOut]:
        """Send a delivery's event again now (a new delivery, the same ``webhook-id``)."""
        path = f"{_webhook_path(project_id, webhook_id)}/deliveries/{segment(delivery_id)}/replay"
        return Call("POST", path, reads(DeliveryOut))

    # -- codes ------------------------------------------------------------------------------

    @_endpoint
    def codes(self, project_id: str | None = None, **filters: Unpack[CodeFilter]) -> Call[CodeList]:
        """Codes and links found in what arrived, newest first."""
        path = f"/projects/{segment(self._project(project_id))}/codes"
        return Call("GET", path, reads(CodeList), params=query(**filters), wait=filters.get("wait"))

    @_endpoint
    def wait_for_code(
        self,
        site: str | list[str] | None = None,
        channel: str | None = None,
        since: str | datetime | None = None,
        from_contains: str | None = None,
        timeout: float = 60,
        *,
        to: str | None = None,
        authenticated: bool | None = None,
        project: str | None = None,
    ) -> Call[CodeOut]:
        """The newest unused code received since ``since`` (default: five minutes before the
        call), from ``site`` when given, marked used; waits up to ``timeout`` seconds, then
        raises ``Timeout`` (its ``skipped`` says what arrived and why it was not the one), or
        ``SmsFiltered`` at once when the provider reported an SMS to the number filtered.
        ``authenticated=True`` takes only a code whose mail passed agentid's DMARC check
        (None: the project's default)."""
        return self._first(
            "code", site, channel, since, from_contains, timeout, to, authenticated, project
        )

    @_endpoint
    def wait_for_link(
        self,
        site: str | list[str] | None = None,
        channel: str | None = None,
        since: str | datetime | None = None,
        from_contains: str | None = None,
        timeout: float = 60,
        *,
        to: str | None = None,
        authenticated: bool | None = None,
        project: str | None = None,
    ) -> Call[CodeOut]:
        """``wait_for_code`` for a magic link (its ``value`` is the URL)."""
        return self._first(
            "link", site, channel, since, from_contains, timeout, to, authenticated, project
        )

    def _first(
        self,
        kind: str,
        site: str | list[str] | None,
        channel: str | None,
        since: str | datetime | None,
        from_contains: str | None,
        timeout: float,
        to: str | None,
        authenticated: bool | None,
        project: str | None,
    ) -> Call[CodeOut]:
        filters: CodeFilter = {
            "authenticated": authenticated,
            "kind": kind,
            "site": site,
            "channel": channel,
            "since": utcnow() - RECENT if since is None else since,
            "from_": from_contains,
            "to": to,
            "consume": True,
            "limit": 1,
            "wait": timeout,
        }
        path = f"/projects/{segment(self._project(project))}/codes"
        return Call("GET", path, _first_of(kind, timeout), params=query(**filters), wait=timeout)


def _first_of(kind: str, timeout: float) -> Callable[[httpx.Response], CodeOut]:
    read_list = reads(CodeList)

    def read(response: httpx.Response) -> CodeOut:
        page = read_list(response)
        filtered = [n for n in page.notices if n.kind == "sms.filtered"]
        if not page.codes and filtered:
            said = ", ".join(f"error {n.error_code} at {n.at:%H:%M:%S}" for n in filtered[:5])
            raise SmsFiltered(
                f"no {kind} arrived: the provider filtered an SMS to the number ({said}); "
                "waiting again will not bring it",
                notices=filtered,
                skipped=list(page.skipped),
            )
        if not page.codes:
            why = "; ".join(f"{s.from_}: {s.reason}" for s in page.skipped[:5])
            raise Timeout(
                f"no {kind} arrived within {timeout:g}s" + (f" (skipped {why})" if why else ""),
                skipped=list(page.skipped),
            )
        return page.codes[0]

    return read


def _send(project_id: str, request: SendRequest) -> Call[SendAccepted]:
    path = f"/projects/{segment(project_id)}/email/send"
    body = request.model_dump(mode="json", by_alias=True, exclude_none=True)
    return Call("POST", path, reads(SendAccepted), json=body)


def _page(path: str, model: type[M], page: Paging) -> Call[M]:
    return Call("GET", path, reads(model), params=query(**page))


def _webhook_path(project_id: str, webhook_id: str) -> str:
    return f"/projects/{segment(project_id)}/webhooks/{segment(webhook_id)}"


def _message_path(project_id: str, mid: str) -> str:
    return f"/projects/{segment(project_id)}/email/messages/{segment(mid)}"


class Client(_Calls[httpx.BaseTransport]):
    """The agentid API over a synchronous ``httpx.Client``."""

    def _connect(self, transport: httpx.BaseTransport | None, options: dict[str, Any]) -> None:
        self._http = httpx.Client(transport=transport, **options)

    def _run(self, call: Call[T]) -> T:
        with _mapped(self.base_url, call.path):
            response = self._http.send(call.request(self._http, self.timeout))
        return call.answer(response)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class AsyncClient(_Calls[httpx.AsyncBaseTransport]):
    """The agentid API over an ``httpx.AsyncClient``: the same methods, awaited."""

    def _connect(self, transport: httpx.AsyncBaseTransport | None, options: dict[str, Any]) -> None:
        self._http = httpx.AsyncClient(transport=transport, **options)

    async def _run(self, call: Call[T]) -> T:
        with _mapped(self.base_url, call.path):
            response = await self._http.send(call.request(self._http, self.timeout))
        return call.answer(response)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()
