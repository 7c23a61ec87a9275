"""``route53://`` against moto's server: a given hosted zone, one found by name, one
these credentials cannot see, and the URL's checks."""

from __future__ import annotations

import pytest

from agentid.errors import ProviderRejected
from agentid.errors import ValidationFailed
from agentid.providers.base import DnsAction
from agentid.providers.base import DnsChange
from agentid.providers.base import DnsRecord
from agentid.providers.dns.route53 import Route53
from tests.providers.dns.conftest import KEY_ID
from tests.providers.dns.conftest import SECRET
from tests.providers.dns.conftest import ZONE
from tests.providers.dns.conftest import build
from tests.providers.dns.conftest import route53_zone

LOGIN = f"{KEY_ID}:{SECRET.replace('/', '%2F').replace('+', '%2B')}"


async def test_a_named_hosted_zone(moto_server: str) -> None:
    _, zone_id = route53_zone(moto_server)
    provider = build(f"route53+http://{LOGIN}@{moto_server}?zone={zone_id}")
    assert await provider.find_zone(f"agents.{ZONE}") == ZONE
    with pytest.raises(ProviderRejected, match=r"not in hosted zone acme\.test"):
        await provider.find_zone("other.test")


async def test_no_hosted_zone_for_the_domain(moto_server: str) -> None:
    route53_zone(moto_server)
    with pytest.raises(ProviderRejected, match=r"no hosted zone holding other\.test") as err:
        await build(f"route53+http://{LOGIN}@{moto_server}").find_zone("other.test")
    assert SECRET not in err.value.message


async def test_a_set_keeps_values_it_did_not_get(moto_server: str) -> None:
    admin, zone_id = route53_zone(moto_server)
    provider = build(f"route53+http://{LOGIN}@{moto_server}")
    await provider.find_zone(ZONE)
    first = DnsRecord(ZONE, "TXT", "verification=1")
    await provider.change(ZONE, [DnsChange(DnsAction.CREATE, first)])
    second = DnsRecord(ZONE, "TXT", "v=spf1 mx ~all")
    [done] = await provider.change(ZONE, [DnsChange(DnsAction.CREATE, second)])
    assert done.error is None
    sets = admin.list_resource_record_sets(HostedZoneId=zone_id)["ResourceRecordSets"]
    [txt] = [s for s in sets if s["Type"] == "TXT"]
    assert sorted(v["Value"] for v in txt["ResourceRecords"]) == [
        '"v=spf1 mx ~all"',
        '"verification=1"',
    ]
    await provider.change(
        ZONE, [DnsChange(DnsAction.DELETE, first), DnsChange(DnsAction.DELETE, second)]
    )
    sets = admin.list_resource_record_sets(HostedZoneId=zone_id)["ResourceRecordSets"]
    assert [s for s in sets if s["Type"] == "TXT"] == []


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("route53://KEY@Z1", "both or neither"),
        ("route53://Z1/path", "no path"),
        ("route53://Z1?zone=Z2", "as the host"),
        ("route53://bad-zone!", "not a valid URL|letters and digits"),
    ],
)
def test_bad_urls(url: str, says: str) -> None:
    with pytest.raises(ValidationFailed, match=says):
        build(url)


def test_no_io_when_built() -> None:
    provider = build("route53://ZABC123")
    assert isinstance(provider, Route53) and provider.zone_id == "ZABC123"
    assert provider._client is None
