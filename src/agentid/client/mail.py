"""The client's calls on email: the domain and its DNS records, aliases, received messages,
sending and the outbox."""

from __future__ import annotations

from datetime import datetime
from typing import Unpack

from agentid.client.calls import Call
from agentid.client.calls import CallGroup
from agentid.client.calls import endpoint
from agentid.client.calls import json_body
from agentid.client.calls import page
from agentid.client.calls import query
from agentid.client.calls import read_bytes
from agentid.client.calls import read_nothing
from agentid.client.calls import reads
from agentid.client.calls import segment
from agentid.client.filters import InboxFilter
from agentid.client.filters import Paging
from agentid.dns.schemas import DnsApplyOut
from agentid.dns.schemas import DnsPlanOut
from agentid.dns.schemas import DnsVerifyOut
from agentid.email.outbound.schemas import Attachment
from agentid.email.outbound.schemas import OutboundOut
from agentid.email.outbound.schemas import Outbox
from agentid.email.outbound.schemas import SendAccepted
from agentid.email.outbound.schemas import SendRequest
from agentid.email.schemas import AliasList
from agentid.email.schemas import AliasOut
from agentid.email.schemas import Inbox
from agentid.email.schemas import MessageOut
from agentid.email.schemas import ProvisionOut


class MailCalls(CallGroup):
    # -- email identity ---------------------------------------------------------------------

    @endpoint
    def provision_email(self, project_id: str, address: str | None = None) -> Call[ProvisionOut]:
        path = f"/projects/{segment(project_id)}/email/provision"
        return Call("POST", path, reads(ProvisionOut), json=json_body(address=address))

    @endpoint
    def dns_plan(self, project_id: str) -> Call[DnsPlanOut]:
        """The records the project's domain needs, the last apply and verification."""
        return Call("GET", f"/projects/{segment(project_id)}/email/dns", reads(DnsPlanOut))

    @endpoint
    def apply_dns(self, project_id: str, force: bool = False) -> Call[DnsApplyOut]:
        """Write the records through the project's DNS provider; ``force`` replaces
        records agentid did not create that stand in the way."""
        path = f"/projects/{segment(project_id)}/email/dns"
        return Call("POST", path, reads(DnsApplyOut), json={"force": force})

    @endpoint
    def verify_dns(self, project_id: str) -> Call[DnsVerifyOut]:
        """Resolve every record again at the configured name servers."""
        path = f"/projects/{segment(project_id)}/email/dns/verify"
        return Call("POST", path, reads(DnsVerifyOut))

    @endpoint
    def new_alias(
        self,
        project_id: str | None = None,
        label: str | None = None,
        local_part: str | None = None,
        expires_at: str | datetime | None = None,
    ) -> Call[AliasOut]:
        """A new address: ``label`` plus a random suffix, or exactly ``local_part``."""
        body = json_body(label=label, local_part=local_part, expires_at=expires_at)
        return Call("POST", self._path(project_id, "email/aliases"), reads(AliasOut), json=body)

    @endpoint
    def list_aliases(self, project_id: str, **paging: Unpack[Paging]) -> Call[AliasList]:
        return page(f"/projects/{segment(project_id)}/email/aliases", AliasList, paging)

    @endpoint
    def delete_alias(self, project_id: str, address: str) -> Call[None]:
        path = f"/projects/{segment(project_id)}/email/aliases/{segment(address)}"
        return Call("DELETE", path, read_nothing)

    # -- messages ---------------------------------------------------------------------------

    @endpoint
    def inbox(self, project_id: str | None = None, **filters: Unpack[InboxFilter]) -> Call[Inbox]:
        """Received mail, newest first."""
        path = self._path(project_id, "email/inbox")
        return Call("GET", path, reads(Inbox), params=query(**filters), wait=filters.get("wait"))

    @endpoint
    def message(self, project_id: str, mid: str | None = None) -> Call[MessageOut]:
        """A received message: ``message(project, mid)``, or ``message(mid)`` on the client's
        project."""
        if mid is None:
            project_id, mid = self._project(None), project_id
        return Call("GET", _message_path(project_id, mid), reads(MessageOut))

    @endpoint
    def raw(self, project_id: str, mid: str) -> Call[bytes]:
        return Call("GET", _message_path(project_id, mid) + "/raw", read_bytes)

    @endpoint
    def attachment(self, project_id: str, mid: str, index: int) -> Call[bytes]:
        return Call("GET", f"{_message_path(project_id, mid)}/attachments/{index}", read_bytes)

    @endpoint
    def mark_read(self, project_id: str, mid: str) -> Call[MessageOut]:
        body = {"unread": False}
        return Call("PATCH", _message_path(project_id, mid), reads(MessageOut), json=body)

    @endpoint
    def delete_message(self, project_id: str, mid: str) -> Call[None]:
        return Call("DELETE", _message_path(project_id, mid), read_nothing)

    # -- sending ----------------------------------------------------------------------------

    @endpoint
    def send(self, project_id: str, request: SendRequest) -> Call[SendAccepted]:
        """Queue a message; its fate is in ``outbox`` / ``sent_message``."""
        return _send(project_id, request)

    @endpoint
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

    @endpoint
    def outbox(self, project_id: str, **paging: Unpack[Paging]) -> Call[Outbox]:
        """Sent and sending mail, newest first, with each recipient's status."""
        return page(f"/projects/{segment(project_id)}/email/outbox", Outbox, paging)

    @endpoint
    def sent_message(self, project_id: str, mid: str) -> Call[OutboundOut]:
        return Call("GET", _message_path(project_id, mid), reads(OutboundOut))


def _send(project_id: str, request: SendRequest) -> Call[SendAccepted]:
    path = f"/projects/{segment(project_id)}/email/send"
    body = request.model_dump(mode="json", by_alias=True, exclude_none=True)
    return Call("POST", path, reads(SendAccepted), json=body)


def _message_path(project_id: str, mid: str) -> str:
    return f"/projects/{segment(project_id)}/email/messages/{segment(mid)}"
