"""DNS records through Cloudflare's API v4: ``cloudflare://<api token>@api.cloudflare.com``.

The API token (a scoped token with Zone:Read and DNS:Edit on the zones agentid may write)
is the URL's user part, sent as ``Authorization: Bearer``; ``cloudflare+http://<token>@
127.0.0.1:9000`` calls a local server speaking the same contract instead. ``timeout=S``
bounds each call (default 30).

Calls, under ``/client/v4``: ``GET /zones?name=`` finds the zone (the domain, else each
parent in turn); ``GET /zones/{id}/dns_records`` pages through its records (100 a page);
``POST``, ``PATCH /{record id}`` and ``DELETE /{record id}`` make each change on its own,
so each has its own outcome. Every answer is the envelope ``{"success", "errors",
"messages", "result", "result_info"}``; a failure goes through the one table
(``agentid.providers.failures``) with the first of Cloudflare's ``errors`` as the detail,
and an answer 200 with ``"success": false`` is a ``ProviderRejected``. A TXT record's
``content`` is sent as quoted strings of at most 255 bytes, as Cloudflare asks, and read
back joined. Records agentid creates carry the comment ``agentid``. Messages never show
the token.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote
from urllib.parse import urlsplit

import dns.exception
import dns.rdata
import dns.rdataclass
import dns.rdatatype

from agentid.errors import ProviderError
from agentid.errors import ProviderRejected
from agentid.errors import ValidationFailed
from agentid.providers.base import DnsAction
from agentid.providers.base import DnsChange
from agentid.providers.base import DnsChanged
from agentid.providers.base import DnsRecord
from agentid.providers.dns.rdata import canonical
from agentid.providers.dns.rdata import from_rdata
from agentid.providers.dns.rdata import rdata_text
from agentid.providers.dns.rdata import zone_name
from agentid.providers.failures import check_response
from agentid.providers.failures import map_failures
from agentid.providers.registry import HttpReach
from agentid.providers.registry import ProviderUrl
from agentid.providers.registry import Transports

Json = dict[str, Any]
VENDOR = "https://api.cloudflare.com"
API = "/client/v4"
PAGE = 100
MAX_PAGES = 1000  # 100,000 records: a zone larger than that is not read whole
COMMENT = "agentid"
_TYPE = re.compile(r"[A-Z][A-Z0-9]{0,9}")


class Cloudflare:
    """A ``DnsProvider`` over Cloudflare's API v4, through the HTTP client it is given."""

    def __init__(self, *, token: str, reach: HttpReach) -> None:
        self.endpoint = reach.endpoint
        self._token = token
        self._reach = reach
        self._zones: dict[str, str] = {}  # zone name -> Cloudflare's zone id

    @property
    def name(self) -> str:
        return f"cloudflare {urlsplit(self.endpoint).netloc}"

    def __repr__(self) -> str:  # never the token
        return f"Cloudflare({self.endpoint!r})"

    async def find_zone(self, domain: str) -> str:
        labels = zone_name(domain).split(".")
        for start in range(len(labels) - 1):
            candidate = ".".join(labels[start:])
            answer = await self._call("GET", "/zones", params={"name": candidate})
            result = answer.get("result")
            for zone in result if isinstance(result, list) else []:
                if not isinstance(zone, dict) or not isinstance(zone.get("id"), str):
                    continue
                if str(zone.get("name", "")).lower() == candidate:
                    self._zones[candidate] = zone["id"]
                    return candidate
        raise ProviderRejected(
            f"{self.name} shows no zone holding {'.'.join(labels)} to this token "
            "(it needs Zone:Read and DNS:Edit on the zone)"
        )

    async def read_records(self, zone: str) -> list[DnsRecord]:
        zone_id = await self._zone_id(zone)
        records: list[DnsRecord] = []
        page = 1
        while True:
            params = {"page": str(page), "per_page": str(PAGE)}
            answer = await self._call("GET", f"/zones/{zone_id}/dns_records", params=params)
            result = answer.get("result")
            for item in result if isinstance(result, list) else []:
                if (record := _record(item)) is not None:
                    records.append(record)
            info = answer.get("result_info")
            pages = info.get("total_pages") if isinstance(info, dict) else None
            if not isinstance(pages, int) or page >= min(pages, MAX_PAGES):
                return records
            page += 1

    async def change(self, zone: str, changes: Sequence[DnsChange]) -> list[DnsChanged]:
        zone_name_ = zone_name(zone)
        zone_id = await self._zone_id(zone_name_)
        done = []
        for change in changes:
            try:
                done.append(await self._one(zone_id, zone_name_, change))
            except ProviderError as err:
                done.append(DnsChanged(change, None, err.message))
        return done

    async def _one(self, zone_id: str, zone: str, change: DnsChange) -> DnsChanged:
        base = f"/zones/{zone_id}/dns_records"
        if change.action is DnsAction.DELETE:
            await self._call("DELETE", f"{base}/{_id(change.record)}")
            return DnsChanged(change, None)
        body = _body(canonical(change.record, zone))
        if change.action is DnsAction.CREATE:
            answer = await self._call("POST", base, json=body | {"comment": COMMENT})
        else:
            old = change.old or change.record
            answer = await self._call("PATCH", f"{base}/{_id(old)}", json=body)
        return DnsChanged(change, _record(answer.get("result")) or change.record)

    async def _zone_id(self, zone: str) -> str:
        zone = zone_name(zone)
        if zone not in self._zones and await self.find_zone(zone) != zone:
            raise ProviderRejected(f"{self.name}: {zone} is not a zone of its own")
        return self._zones[zone]

    async def _call(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str] | None = None,
        json: Json | None = None,
    ) -> Json:
        headers = {"Authorization": f"Bearer {self._token}", "Accept": "application/json"}
        secrets = (self._token,)
        with map_failures(self.name, secrets=secrets):
            response = await self._reach.http.request(
                method,
                self.endpoint + API + path,
                params=params,
                json=json,
                headers=headers,
                timeout=self._reach.timeout,
            )
        try:
            answer = response.json()
        except ValueError:
            answer = None
        if not isinstance(answer, dict):
            answer = {}
        detail = _first_error(answer)
        check_response(response, self.name, detail=detail, secrets=secrets)
        if answer.get("success") is not True:
            raise ProviderRejected(f"{self.name} did not succeed: {detail or 'no reason given'}")
        return answer


def _id(record: DnsRecord) -> str:
    if not record.id:
        raise ProviderRejected(f"{record.type} record for {record.name}: no Cloudflare id")
    return quote(record.id, safe="")


def _body(record: DnsRecord) -> Json:
    content = rdata_text("TXT", record) if record.type == "TXT" else record.value
    body: Json = {"type": record.type, "name": record.name, "content": content, "ttl": record.ttl}
    if record.priority is not None:
        body["priority"] = record.priority
    return body


def _record(item: Any) -> DnsRecord | None:
    """A record as Cloudflare lists it, in agentid's shape; None for what cannot be read."""
    if not isinstance(item, dict):
        return None
    rid, name, rtype, content = (item.get(k) for k in ("id", "name", "type", "content"))
    ttl, priority = item.get("ttl", 1), item.get("priority")
    if not all(isinstance(v, str) and v for v in (rid, name, rtype)) or not isinstance(
        content, str
    ):
        return None
    if not isinstance(ttl, int) or isinstance(ttl, bool) or not _TYPE.fullmatch(str(rtype)):
        return None
    if rtype == "MX" and (not isinstance(priority, int) or isinstance(priority, bool)):
        return None
    name, rtype = str(name).lower(), str(rtype)
    if rtype == "TXT" and content.startswith('"'):
        try:
            rdata = dns.rdata.from_text(dns.rdataclass.IN, dns.rdatatype.TXT, content)
        except (ValueError, dns.exception.DNSException):
            return None
        content = from_rdata(name, rdata, ttl).value
    return DnsRecord(
        name=name,
        type=rtype,
        value=content.lower().removesuffix(".") if rtype in ("MX", "CNAME") else content,
        ttl=ttl,
        priority=int(priority) if rtype == "MX" and isinstance(priority, int) else None,
        id=str(rid),
    )


def _first_error(answer: Json) -> str | None:
    errors = answer.get("errors")
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        first = errors[0]
        return f"{first.get('code', '')} {first.get('message', '')}".strip() or None
    return None


def from_url(url: ProviderUrl, transports: Transports) -> Cloudflare:
    """The ``cloudflare://`` factory: checks the URL, does no I/O."""
    url.only_params(("timeout",))
    token = url.username or url.password
    if not token:
        raise ValidationFailed(
            "cloudflare:// needs the API token: cloudflare://TOKEN@api.cloudflare.com"
        )
    elsewhere = url.host not in (None, "api.cloudflare.com") or url.port
    if not url.http and (elsewhere or url.path not in ("", "/")):
        raise ValidationFailed("cloudflare:// talks to api.cloudflare.com only")
    return Cloudflare(
        token=token,
        reach=url.reach(VENDOR, transports),
    )
