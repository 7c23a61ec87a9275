"""The client's calls on phone: the project's number, received SMS, forwarders and the
sandbox's injected SMS."""

from __future__ import annotations

from typing import TypedDict
from typing import Unpack

from agentid.client.calls import Call
from agentid.client.calls import CallGroup
from agentid.client.calls import endpoint
from agentid.client.calls import json_body
from agentid.client.calls import query
from agentid.client.calls import read_nothing
from agentid.client.calls import reads
from agentid.client.calls import segment
from agentid.client.filters import SmsFilter
from agentid.phone.schemas import ForwarderCreated
from agentid.phone.schemas import ForwarderList
from agentid.phone.schemas import GcResult
from agentid.phone.schemas import PhoneNumberOut
from agentid.phone.schemas import SmsDetail
from agentid.phone.schemas import SmsList
from agentid.phone.schemas import SmsOut


class NumberWanted(TypedDict, total=False):
    """What ``provision_phone`` asks for (only what is given is sent)."""

    country: str | None  # ISO code; the server's default is US
    area_code: str | None
    type: str | None  # local | mobile | tollfree


class PhoneCalls(CallGroup):
    @endpoint
    def provision_phone(
        self, project_id: str, **wanted: Unpack[NumberWanted]
    ) -> Call[PhoneNumberOut]:
        """Buy the project's number (local, mobile or tollfree) from its phone provider."""
        path = f"/projects/{segment(project_id)}/phone/provision"
        return Call("POST", path, reads(PhoneNumberOut), json=json_body(**wanted))

    @endpoint
    def phone(self, project_id: str) -> Call[PhoneNumberOut]:
        return Call("GET", f"/projects/{segment(project_id)}/phone", reads(PhoneNumberOut))

    @endpoint
    def keep_phone(self, project_id: str, keep: bool = True) -> Call[PhoneNumberOut]:
        """Pin (or unpin) the number: the inactivity collector leaves a pinned one."""
        path = f"/projects/{segment(project_id)}/phone"
        return Call("PATCH", path, reads(PhoneNumberOut), json={"keep": keep})

    @endpoint
    def release_phone(self, project_id: str) -> Call[PhoneNumberOut]:
        """Release the number at the provider; its SMS stay."""
        return Call("DELETE", f"/projects/{segment(project_id)}/phone", reads(PhoneNumberOut))

    @endpoint
    def collect_phone(
        self, project_id: str, inactive_days: int, dry_run: bool = False
    ) -> Call[GcResult]:
        """Release the number if unpinned and without SMS for ``inactive_days``."""
        path = f"/projects/{segment(project_id)}/phone/gc"
        body = {"inactive_days": inactive_days, "dry_run": dry_run}
        return Call("POST", path, reads(GcResult), json=body)

    @endpoint
    def sms(self, project_id: str | None = None, **filters: Unpack[SmsFilter]) -> Call[SmsList]:
        """Received SMS, newest first (``wait`` long-polls for one to match)."""
        path = self._path(project_id, "phone/messages")
        return Call("GET", path, reads(SmsList), params=query(**filters), wait=filters.get("wait"))

    @endpoint
    def sms_message(self, project_id: str, sms_id: str) -> Call[SmsDetail]:
        """One SMS with every field its provider sent."""
        path = f"/projects/{segment(project_id)}/phone/messages/{segment(sms_id)}"
        return Call("GET", path, reads(SmsDetail))

    @endpoint
    def create_forwarder(
        self, project_id: str, number: str, label: str | None = None
    ) -> Call[ForwarderCreated]:
        """Register a human's own phone; its ``webhook_url`` and ``secret`` show once."""
        path = f"/projects/{segment(project_id)}/phone/forwarders"
        return Call(
            "POST", path, reads(ForwarderCreated), json=json_body(number=number, label=label)
        )

    @endpoint
    def list_forwarders(self, project_id: str) -> Call[ForwarderList]:
        path = f"/projects/{segment(project_id)}/phone/forwarders"
        return Call("GET", path, reads(ForwarderList))

    @endpoint
    def revoke_forwarder(self, project_id: str, forwarder_id: str) -> Call[None]:
        path = f"/projects/{segment(project_id)}/phone/forwarders/{segment(forwarder_id)}"
        return Call("DELETE", path, read_nothing)

    @endpoint
    def inject_sms(self, to: str, from_: str, body: str) -> Call[SmsOut]:
        """Deliver an SMS to a sandbox number (the sandbox provider only; admin)."""
        return Call(
            "POST", "/sandbox/sms", reads(SmsOut), json={"to": to, "from": from_, "body": body}
        )
