"""SendGrid's domain authentication (formerly "whitelabel"): the DNS records that let
SendGrid sign as the sender's domain.

``domain_records`` finds the domain among the account's authenticated domains
(``GET /v3/whitelabel/domains?domain=``) or authenticates it (``POST /v3/whitelabel/
domains`` with ``automatic_security``: SendGrid then rotates the DKIM keys itself behind
three CNAMEs, ``mail_cname``, ``dkim1`` and ``dkim2``), and answers those CNAMEs. Errors
go through the one table with the first of SendGrid's ``errors`` as the detail.
"""

from __future__ import annotations

from typing import Any

from agentid.errors import ProviderRejected
from agentid.providers.base import DnsRecord
from agentid.providers.vendor_api import VendorApi

PATH = "/v3/whitelabel/domains"


async def domain_records(api: VendorApi, domain: str) -> list[DnsRecord]:
    """The CNAMEs of ``domain``'s authentication, through SendGrid's ``api``."""

    async def call(method: str, **kwargs: Any) -> Any:
        response = await api.request(method, api.reach.endpoint + PATH, **kwargs)
        api.check(response)
        try:
            return response.json()
        except ValueError:
            raise ProviderRejected(f"{api.name} answered something that is not JSON") from None

    listed = await call("GET", params={"domain": domain})
    mine = [d for d in listed if isinstance(d, dict)] if isinstance(listed, list) else []
    found = next((d for d in mine if d.get("domain") == domain), None)
    if found is None:
        found = await call("POST", json={"domain": domain, "automatic_security": True})
    return _cnames(found, domain)


def _cnames(authenticated: Any, domain: str) -> list[DnsRecord]:
    entries = authenticated.get("dns") if isinstance(authenticated, dict) else None
    out = []
    for key in ("mail_cname", "dkim1", "dkim2"):
        entry = entries.get(key) if isinstance(entries, dict) else None
        if not isinstance(entry, dict) or str(entry.get("type", "")).lower() != "cname":
            continue
        host = str(entry.get("host", "")).lower().removesuffix(".")
        data = str(entry.get("data", "")).lower().removesuffix(".")
        if host.endswith("." + domain) and data:
            out.append(DnsRecord(host, "CNAME", data))
    return out
