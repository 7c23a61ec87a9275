"""The DNS records a hosted domain needs: MX (and A), SPF, DKIM, DMARC.

Applying them through a DNS provider is the dns package's job; this only plans them.
"""

from __future__ import annotations

from agentid.config import Settings
from agentid.email.dkim import txt_value
from agentid.email.schemas import DNSRecord


def mail_host(settings: Settings, domain: str) -> str:
    return settings.mail_host or f"mx.{domain}"


def plan(settings: Settings, domain: str, selector: str, public_key_b64: str) -> list[DNSRecord]:
    host = mail_host(settings, domain)
    records = [DNSRecord(type="MX", name=domain, value=host, priority=10)]
    if settings.public_ip and host.endswith("." + domain):
        kind = "AAAA" if ":" in settings.public_ip else "A"
        records.append(DNSRecord(type=kind, name=host, value=settings.public_ip))
    records += [
        DNSRecord(type="TXT", name=domain, value="v=spf1 mx ~all"),
        DNSRecord(
            type="TXT", name=f"{selector}._domainkey.{domain}", value=txt_value(public_key_b64)
        ),
        DNSRecord(
            type="TXT",
            name=f"_dmarc.{domain}",
            value=f"v=DMARC1; p={settings.dmarc_policy}; adkim=r; aspf=r",
        ),
    ]
    return records
