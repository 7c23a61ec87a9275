"""A project with something on every page of the web page, made through the API and the
real things around it, no row written by hand: its own domain, the DNS plan applied to the
zone file and verified against NSD serving it with SPF changed and DMARC left out; a
sandbox phone number and two SMS (one code used); mail with a code and with a link; an
escalation answered; a labelled alias; its own relay account (a password in the URL)
pointing at a local SMTP sink that refuses one recipient; a webhook to a local receiver,
with its deliveries.

A module using it starts its agentid with ``SETTINGS`` as its ``OVERRIDES`` (the name
servers on a port NSD takes while verifying, webhooks allowed to loopback); the sink and
the receiver stay up while its tests read the pages (tests/web/conftest.py)."""

from __future__ import annotations

from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from tests.conftest import Service
from tests.dns.nameserver import free_udp_port
from tests.dns.nameserver import nsd
from tests.dns.nameserver import require_nsd
from tests.dns.nameserver import write_zone
from tests.providers.sink import Sink
from tests.service import create_project
from tests.service import deliver
from tests.service import eventually
from tests.service import provision
from tests.web.mail import verification
from tests.webhooks.helpers import FAST
from tests.webhooks.helpers import add_webhook
from tests.webhooks.receiver import Receiver

NAMESERVER = free_udp_port()  # NSD takes it while a test verifies
SETTINGS: dict[str, Any] = {
    **FAST,  # webhooks to loopback, retried within a fraction of a second
    "dns_nameservers": f"127.0.0.1:{NAMESERVER}",
    "dns_timeout_seconds": 1.0,
}
RELAY_USER = "relay-user-7c1"
RELAY_PASSWORD = "Relay-Secret-9vQ2xZ-hunter2"  # must never appear on a page
REFUSED = "held@vendor.example"  # the sink refuses this recipient at RCPT
REFUSAL = "550 5.7.1 held by policy"  # for good, but not "no such mailbox": no suppression
SMS_CODE = "554433"
EMAIL_CODE = "482913"  # tests/web/mail.verification's
ANSWER = "771209"  # the operator's answer to the escalation
USED_CODE = "660011"  # an SMS code the agent has consumed
LINK = "https://shop.example/verify?token=Qx7fK2mP9s"


@dataclass(frozen=True)
class Stocked:
    id: str
    domain: str
    address: str
    number: str
    alias: str
    fingerprint: str  # of the relay account, as the API shows it
    message_id: str  # the verification mail
    link_message_id: str
    sent_id: str  # sent to the sink: one recipient accepted, one refused
    escalation_id: str
    webhook: dict[str, Any]


def link_mail(to: str) -> bytes:
    m = EmailMessage()
    m["From"], m["To"], m["Subject"] = "Shop <noreply@shop.example>", to, "Confirm your email"
    m.set_content(f"Confirm your address: {LINK}\nThe link expires in an hour.")
    return m.as_bytes().replace(b"\n", b"\r\n")


async def published_wrongly(service: Service, project_id: str, domain: str, where: Path) -> None:
    """NSD serving the zone agentid wrote, less its DMARC record and with an SPF record of
    someone else's; then verify: MX and DKIM ok, SPF wrong, DMARC missing."""
    require_nsd()
    written = service.running.runtime.settings.data_dir / "zones" / f"{domain}.zone"
    kept = [
        '@\t3600\tIN\tTXT\t"v=spf1 include:elsewhere.example -all"' if "v=spf1" in line else line
        for line in written.read_text().splitlines()
        if not line.startswith("_dmarc")
    ]
    served = where / f"{domain}.published"
    served.write_text("\n".join(kept) + "\n")
    write_zone(where, domain, f"$INCLUDE {served} {domain}.\n")
    with nsd(where, [domain], NAMESERVER):
        r = await service.http.post(f"/projects/{project_id}/email/dns/verify")
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "unverified", r.text


async def stock(
    service: Service, sink: Sink, receiver: Receiver, where: Path, project_id: str = "acme"
) -> Stocked:
    http = service.http
    domain = f"{project_id}.test"
    await create_project(service, project_id, domain)
    address = (await provision(service, project_id))["address"]
    await published_wrongly(service, project_id, domain, where)
    relay = f"smtp://{RELAY_USER}:{RELAY_PASSWORD}@127.0.0.1:{sink.port}?starttls=0"
    r = await http.put(f"/projects/{project_id}/providers/relay", json={"url": relay})
    assert r.status_code == 200, r.text
    fingerprint = r.json()["fingerprint"]
    webhook = await add_webhook(service, receiver.url(), ["message.received"], project_id)

    r = await http.post(f"/projects/{project_id}/phone/provision", json={})
    assert r.status_code == 201, r.text
    number = r.json()["number"]
    for body in (f"Your Acme code is {USED_CODE}.", f"Your Acme code is {SMS_CODE}."):
        sent = await http.post(
            "/sandbox/sms", json={"to": number, "from": "+15005550006", "body": body}
        )
        assert sent.status_code == 201, sent.text
        if USED_CODE in body:  # the agent takes the first before the second arrives
            r = await http.get(
                f"/projects/{project_id}/codes", params={"channel": "sms", "consume": "true"}
            )
            assert [c["value"] for c in r.json()["codes"]] == [USED_CODE], r.text

    message = await deliver(service, project_id, address, verification(address))
    linked = await deliver(service, project_id, address, link_mail(address))
    await receiver.wait_for(2)  # both deliveries of message.received

    r = await http.post(
        f"/projects/{project_id}/escalations",
        json={"kind": "code", "service": "bank.example", "reason": "The bank texts a code"},
    )
    assert r.status_code == 201, r.text
    escalation = r.json()["id"]
    r = await http.post(
        f"/projects/{project_id}/escalations/{escalation}/answer", json={"value": ANSWER}
    )
    assert r.status_code == 200, r.text

    r = await http.post(f"/projects/{project_id}/email/aliases", json={"label": "signup"})
    assert r.status_code == 201, r.text
    alias = r.json()["address"]

    sink.rcpt_replies[REFUSED] = REFUSAL
    r = await http.post(
        f"/projects/{project_id}/email/send",
        json={"to": ["kept@vendor.example", REFUSED], "subject": "Hello", "text": "Hi."},
    )
    assert r.status_code in (200, 201, 202), r.text
    sent_id = r.json()["id"]

    async def settled() -> bool:
        got = (await http.get(f"/projects/{project_id}/email/messages/{sent_id}")).json()
        return bool(got["status"] == "partial")

    await eventually(settled, "one recipient sent, the other refused")

    async def judged() -> bool:  # agentid's verdict on the mail comes after it is listed
        for mid in (message["id"], linked["id"]):
            got = (await http.get(f"/projects/{project_id}/email/messages/{mid}")).json()
            if got["auth_results"] is None:
                return False
        return True

    await eventually(judged, "both messages are judged")
    return Stocked(
        id=project_id, domain=domain, address=address, number=number,
        alias=alias, fingerprint=fingerprint,
        message_id=message["id"], link_message_id=linked["id"], sent_id=sent_id,
        escalation_id=escalation, webhook=webhook,
    )  # fmt: skip
