"""DNS records through Amazon Route 53: ``route53://[<hosted zone id>]``.

``route53://Z0123456789ABC`` writes to that hosted zone; ``route53://`` finds the zone
holding the domain by name (``ListHostedZonesByName``: the domain, else each parent).
Credentials come from the standard AWS chain, or ``route53://KEYID:SECRET@Z0123…``.
``route53+http://127.0.0.1:5000?zone=Z0123…`` calls a local server speaking the Route 53
API (moto) instead; ``zone`` names the hosted zone there. ``timeout=S`` bounds the
connection and each read (default 30).

Route 53 keeps a zone as resource record sets, one per (name, type), with no id per
record, so a change is made on its whole set (``agentid.providers.dns.rrsets``): the set
as it is now, our change applied, written back with ``ChangeResourceRecordSets`` UPSERT
(DELETE when it becomes empty), one call per set, so each set has its own outcome and a
value someone else put in a set is kept. TXT values go as quoted strings of at most 255
bytes. boto3 blocks: each call runs in a worker thread, on one client made on the first
call (finding credentials may read files or ask the instance metadata service).
"""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import Sequence
from typing import Any

import dns.exception
import dns.rdata
import dns.rdataclass
import dns.rdatatype

from agentid.errors import ProviderError
from agentid.errors import ProviderRejected
from agentid.errors import ValidationFailed
from agentid.providers.aws import AwsAccess
from agentid.providers.aws import aws_access
from agentid.providers.base import DnsChange
from agentid.providers.base import DnsChanged
from agentid.providers.base import DnsRecord
from agentid.providers.dns import rrsets
from agentid.providers.dns.rdata import canonical
from agentid.providers.dns.rdata import from_rdata
from agentid.providers.dns.rdata import parse
from agentid.providers.dns.rdata import zone_name
from agentid.providers.failures import map_failures
from agentid.providers.registry import ProviderUrl
from agentid.providers.registry import Transports

_ZONE_ID = re.compile(r"[A-Z0-9]{1,32}")


class Route53:
    """A ``DnsProvider`` over Route 53 (or a local server speaking its API)."""

    def __init__(self, *, zone_id: str | None = None, access: AwsAccess | None = None) -> None:
        self.zone_id = zone_id
        self.access = access or AwsAccess()
        self.endpoint = self.access.endpoint
        self._client: Any = None
        self._client_lock = threading.Lock()
        self._zones: dict[str, str] = {}  # zone name -> hosted zone id

    @property
    def name(self) -> str:
        return "route53" + (f" at {self.endpoint}" if self.endpoint else "")

    def __repr__(self) -> str:  # never the credentials
        return f"Route53(zone_id={self.zone_id!r}, endpoint={self.endpoint!r})"

    def client(self) -> Any:
        with self._client_lock:
            if self._client is None:
                # Route 53 is global; its API lives in us-east-1
                session = self.access.session("us-east-1")
                config = self.access.config(attempts=2)
                self._client = session.client("route53", endpoint_url=self.endpoint, config=config)
            return self._client

    async def _run(self, call: Any, /, **kwargs: Any) -> Any:
        with map_failures(self.name, secrets=self.access.secrets):
            return await asyncio.to_thread(lambda: getattr(self.client(), call)(**kwargs))

    async def find_zone(self, domain: str) -> str:
        domain = zone_name(domain)
        if self.zone_id is not None:
            answer = await self._run("get_hosted_zone", Id=self.zone_id)
            zone = zone_name(answer["HostedZone"]["Name"])
            if domain != zone and not domain.endswith("." + zone):
                raise ProviderRejected(f"{self.name}: {domain} is not in hosted zone {zone}")
            self._zones[zone] = self.zone_id
            return zone
        labels = domain.split(".")
        for start in range(len(labels) - 1):
            candidate = ".".join(labels[start:])
            answer = await self._run("list_hosted_zones_by_name", DNSName=candidate, MaxItems="1")
            for zone in answer.get("HostedZones", []):
                if zone_name(zone["Name"]) == candidate and not zone.get("Config", {}).get(
                    "PrivateZone"
                ):
                    self._zones[candidate] = zone["Id"].rsplit("/", 1)[-1]
                    return candidate
        raise ProviderRejected(
            f"{self.name} shows no hosted zone holding {domain} to these credentials"
        )

    async def _zone_id(self, zone: str) -> str:
        zone = zone_name(zone)
        if zone not in self._zones and await self.find_zone(zone) != zone:
            raise ProviderRejected(f"{self.name}: {zone} is not a hosted zone of its own")
        return self._zones[zone]

    async def read_records(self, zone: str) -> list[DnsRecord]:
        zone_id = await self._zone_id(zone)
        records: list[DnsRecord] = []
        kwargs: dict[str, Any] = {"HostedZoneId": zone_id}
        while True:
            answer = await self._run("list_resource_record_sets", **kwargs)
            for rrset in answer.get("ResourceRecordSets", []):
                records += _records(rrset)
            if not answer.get("IsTruncated"):
                return records
            kwargs["StartRecordName"] = answer["NextRecordName"]
            kwargs["StartRecordType"] = answer["NextRecordType"]

    async def change(self, zone: str, changes: Sequence[DnsChange]) -> list[DnsChanged]:
        zone = zone_name(zone)
        checked = [
            DnsChange(c.action, canonical(c.record, zone), c.old and canonical(c.old, zone))
            for c in changes
        ]
        zone_id = await self._zone_id(zone)
        current = await self.read_records(zone)
        failed: dict[rrsets.Key, str] = {}
        for key, members in rrsets.regroup(current, checked).items():
            now = [r for r in current if rrsets.key(r) == key]
            if not members and not now:
                continue
            change = _rrset_change(key, members or now, "UPSERT" if members else "DELETE")
            try:
                await self._run(
                    "change_resource_record_sets",
                    HostedZoneId=zone_id,
                    ChangeBatch={"Comment": "agentid", "Changes": [change]},
                )
            except ProviderError as err:
                failed[key] = err.message
        return rrsets.outcomes(checked, failed)


def _rrset_change(key: rrsets.Key, members: list[DnsRecord], action: str) -> dict[str, Any]:
    name, rtype = key
    return {
        "Action": action,
        "ResourceRecordSet": {
            "Name": name + ".",
            "Type": rtype,
            "TTL": members[0].ttl,
            "ResourceRecords": [{"Value": parse(rtype, r).to_text()} for r in members],
        },
    }


def _records(rrset: dict[str, Any]) -> list[DnsRecord]:
    """The records of one resource record set (none for an alias, or what cannot be read)."""
    name = zone_name(str(rrset.get("Name", "")).replace("\\052", "*")) if rrset.get("Name") else ""
    rtype, ttl = str(rrset.get("Type", "")), int(rrset.get("TTL", 0) or 0)
    out = []
    for item in rrset.get("ResourceRecords", []):
        try:
            rdata = dns.rdata.from_text(
                dns.rdataclass.IN, dns.rdatatype.from_text(rtype), str(item["Value"])
            )
        except (KeyError, ValueError, dns.exception.DNSException):
            continue
        out.append(from_rdata(name, rdata, ttl))
    return out


def from_url(url: ProviderUrl, transports: Transports) -> Route53:
    """The ``route53://`` factory: checks the URL, does no I/O (no credential lookup)."""
    url.only_params(("zone", "timeout"))
    access = aws_access(url)
    if url.path not in ("", "/"):
        raise ValidationFailed("route53:// takes no path")
    if url.http:
        zone_id = url.query.get("zone")
    else:
        if "zone" in url.query:
            raise ValidationFailed("route53:// names its hosted zone as the host: route53://Z0123")
        zone_id = url.host.upper() if url.host else None
        if url.port is not None:
            raise ValidationFailed("route53:// takes no port")
    if zone_id is not None and not _ZONE_ID.fullmatch(zone_id):
        raise ValidationFailed("route53:// hosted zone id is letters and digits (like Z0123ABC)")
    return Route53(zone_id=zone_id, access=access)
