"""Relays that sign as the sender's domain name the DNS records they need: SES Easy DKIM
(CreateEmailIdentity / GetEmailIdentity; against moto in test_ses.py) and SendGrid's
domain authentication."""

from __future__ import annotations

import httpx
import pytest

from agentid.errors import ProviderAuth
from agentid.providers.base import DnsRecord
from agentid.providers.base import SendingDomain
from agentid.providers.mail.sendgrid import SendGridRelay
from tests.providers.mail.conftest import build
from tests.providers.mail.sendgrid_server import KEY
from tests.providers.mail.sendgrid_server import SendGrid
from tests.providers.mail.ses_stub import running_stub
from tests.providers.mail.test_ses import local
from tests.providers.mail.test_ses import relay as ses_relay


async def test_ses_easy_dkim_cnames() -> None:
    with running_stub() as stub:
        ses = ses_relay(local(stub.endpoint))
        assert isinstance(ses, SendingDomain) and ses.spf_include == "amazonses.com"
        records = await ses.domain_records("acme.test")
        assert records == [
            DnsRecord(f"tok{n}acm._domainkey.acme.test", "CNAME", f"tok{n}acm.dkim.amazonses.com")
            for n in range(3)
        ]
        assert [r.path for r in stub.requests] == [
            "/v2/email/identities/acme.test",  # GetEmailIdentity: unknown
            "/v2/email/identities",  # so CreateEmailIdentity
        ]
        assert await ses.domain_records("acme.test") == records  # known now: only a Get
        assert len(stub.requests) == 3


async def test_sendgrid_domain_authentication(sendgrid: SendGrid, relay: SendGridRelay) -> None:
    assert isinstance(relay, SendingDomain) and relay.spf_include == "sendgrid.net"
    records = await relay.domain_records("acme.test")
    assert [(r.name, r.type) for r in records] == [
        ("em1.acme.test", "CNAME"),
        ("s1._domainkey.acme.test", "CNAME"),
        ("s2._domainkey.acme.test", "CNAME"),
    ]
    assert records[1].value == "s1.domainkey.u1001.wl.sendgrid.net"
    assert sendgrid.domains[0]["automatic_security"] is True
    assert await relay.domain_records("acme.test") == records  # found, not made again
    assert len(sendgrid.domains) == 1


async def test_sendgrid_refusing_the_key(sendgrid: SendGrid) -> None:
    async with httpx.AsyncClient() as http:
        wrong = build(sendgrid.url("SG.wrong"), http)
        with pytest.raises(ProviderAuth) as err:
            await wrong.domain_records("acme.test")
    assert KEY not in err.value.message and "SG.wrong" not in err.value.message
