"""DNS provider fixtures: the same contract run against a zone file, a local Cloudflare
and moto's Route 53, each with a way to put records there behind agentid's back.

moto is a dev dependency (``make install``); without it the Route 53 variant skips,
unless ``AGENTID_REQUIRE_EXTERNAL=1`` makes that a failure.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from collections.abc import Callable
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from agentid.providers.base import DnsProvider
from agentid.providers.base import DnsRecord
from agentid.providers.dns.rdata import parse
from agentid.providers.registry import Registry
from agentid.providers.registry import Transports
from agentid.providers.registry import register_builtins
from tests.providers.dns.cloudflare_server import CloudflareState
from tests.providers.dns.cloudflare_server import running_cloudflare

ZONE = "acme.test"
HOST = "127.0.0.1"
KEY_ID, SECRET = "AKIDAGENTIDDNS01", "r53/s3cr3t+key"


def build(url: str, http: httpx.AsyncClient | None = None) -> DnsProvider:
    registry = Registry()
    register_builtins(registry)
    return registry.dns(url, Transports(http=http or httpx.AsyncClient()))


@dataclass
class Zone:
    """A provider holding ``acme.test``, and a back door into the same zone."""

    kind: str
    provider: DnsProvider
    put: Callable[[DnsRecord], None]  # a record added by someone else
    state: Any = None


def route53_admin(moto: str) -> Any:
    import boto3

    return boto3.client(
        "route53",
        region_name="us-east-1",
        endpoint_url=f"http://{moto}",
        aws_access_key_id=KEY_ID,
        aws_secret_access_key=SECRET,
    )


def route53_zone(moto: str) -> tuple[Any, str]:
    """moto emptied, holding the public hosted zone acme.test: (admin client, zone id)."""
    httpx.post(f"http://{moto}/moto-api/reset").raise_for_status()
    admin = route53_admin(moto)
    made = admin.create_hosted_zone(Name=ZONE, CallerReference="agentid-test")
    return admin, made["HostedZone"]["Id"].rsplit("/", 1)[-1]


@pytest.fixture
def cloudflare() -> Iterator[CloudflareState]:
    with running_cloudflare() as state:
        state.add_zone(ZONE)
        yield state


@pytest.fixture(params=["zonefile", "cloudflare", "route53"])
async def zone(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Zone]:
    kind = str(request.param)
    if kind == "zonefile":
        provider = build(f"zonefile://{tmp_path}")

        def put_file(record: DnsRecord) -> None:
            path = tmp_path / f"{ZONE}.zone"
            head = "" if path.exists() else f"$ORIGIN {ZONE}.\n"
            data = parse(record.type, record).to_text()
            line = f"{record.name}. {record.ttl} IN {record.type} {data}\n"
            with path.open("a") as fh:
                fh.write(head + line)

        yield Zone(kind, provider, put_file)
        return
    if kind == "cloudflare":
        cloudflare = request.getfixturevalue("cloudflare")
        async with httpx.AsyncClient() as http:

            def put_cf(record: DnsRecord) -> None:
                extra = {"priority": record.priority} if record.priority is not None else {}
                content = (
                    parse(record.type, record).to_text() if record.type == "TXT" else record.value
                )
                if record.type == "MX":
                    content = record.value
                cloudflare.add(ZONE, record.type, record.name, content, **extra)

            yield Zone(kind, build(cloudflare.url(), http), put_cf, cloudflare)
        return
    moto = request.getfixturevalue("moto_server")
    admin, zone_id = route53_zone(moto)

    def put_r53(record: DnsRecord) -> None:
        rrsets = admin.list_resource_record_sets(HostedZoneId=zone_id)["ResourceRecordSets"]
        values = [
            v["Value"]
            for s in rrsets
            if s["Name"] == record.name + "." and s["Type"] == record.type
            for v in s["ResourceRecords"]
        ]
        values.append(parse(record.type, record).to_text())
        change = {
            "Action": "UPSERT",
            "ResourceRecordSet": {
                "Name": record.name + ".",
                "Type": record.type,
                "TTL": record.ttl,
                "ResourceRecords": [{"Value": v} for v in values],
            },
        }
        admin.change_resource_record_sets(HostedZoneId=zone_id, ChangeBatch={"Changes": [change]})

    url = f"route53+http://{KEY_ID}:{SECRET.replace('/', '%2F').replace('+', '%2B')}@{moto}"
    yield Zone(kind, build(url), put_r53, zone_id)
