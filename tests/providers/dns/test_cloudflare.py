"""``cloudflare://`` against a local server following the API v4 contract: finding the
zone, paging, the error envelope, per-record failures; the token never in a message."""

from __future__ import annotations

from collections.abc import AsyncIterator
from urllib.parse import quote

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from agentid.errors import ProviderAuth
from agentid.errors import ProviderRejected
from agentid.errors import ValidationFailed
from agentid.providers.base import DnsAction
from agentid.providers.base import DnsChange
from agentid.providers.base import DnsRecord
from agentid.providers.dns.cloudflare import Cloudflare
from agentid.providers.dns.cloudflare import _record
from tests.providers.dns.cloudflare_server import TOKEN
from tests.providers.dns.cloudflare_server import CloudflareState
from tests.providers.dns.conftest import ZONE
from tests.providers.dns.conftest import build


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


async def test_the_zone_of_a_subdomain_is_its_parent(
    cloudflare: CloudflareState, http: httpx.AsyncClient
) -> None:
    provider = build(cloudflare.url(), http)
    assert await provider.find_zone("agents.acme.test") == ZONE


async def test_a_zone_the_token_cannot_see(
    cloudflare: CloudflareState, http: httpx.AsyncClient
) -> None:
    cloudflare.add_zone("hidden.test", visible=False)
    with pytest.raises(ProviderRejected, match=r"no zone holding hidden\.test") as err:
        await build(cloudflare.url(), http).find_zone("hidden.test")
    assert TOKEN not in err.value.message


async def test_a_wrong_token_is_provider_auth(
    cloudflare: CloudflareState, http: httpx.AsyncClient
) -> None:
    with pytest.raises(ProviderAuth, match="Authentication error") as err:
        await build(cloudflare.url("wrong-token"), http).find_zone(ZONE)
    assert "wrong-token" not in err.value.message


async def test_records_are_read_page_by_page(
    cloudflare: CloudflareState, http: httpx.AsyncClient
) -> None:
    for n in range(230):
        cloudflare.add(ZONE, "A", f"h{n}.{ZONE}", f"192.0.2.{n % 250}")
    records = await build(cloudflare.url(), http).read_records(ZONE)
    assert len(records) == 230 and len({r.id for r in records}) == 230
    pages = [c for c in cloudflare.calls if c[1].endswith("/dns_records")]
    assert len(pages) == 3


async def test_each_change_has_its_own_outcome(
    cloudflare: CloudflareState, http: httpx.AsyncClient
) -> None:
    provider = build(cloudflare.url(), http)
    await provider.find_zone(ZONE)
    cloudflare.fail_next(429, 971, "Please wait and consider throttling your request speed")
    good = DnsRecord(ZONE, "TXT", "v=spf1 mx ~all")
    elsewhere = DnsRecord("other.example", "A", "192.0.2.1")
    done = await provider.change(
        ZONE,
        [DnsChange(DnsAction.CREATE, good), DnsChange(DnsAction.CREATE, good)],
    )
    assert done[0].error is not None and "asks to slow down" in done[0].error
    assert "971" in done[0].error
    assert done[1].error is None and done[1].record is not None and done[1].record.id
    [outside] = await provider.change(ZONE, [DnsChange(DnsAction.CREATE, elsewhere)])
    assert outside.error is not None and "not in zone" in outside.error  # never sent
    [txt] = cloudflare.of(ZONE)
    assert txt["content"] == '"v=spf1 mx ~all"' and txt["comment"] == "agentid"


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("cloudflare://api.cloudflare.com", "needs the API token"),
        (f"cloudflare://{quote(TOKEN, safe='')}@example.com", "api.cloudflare.com only"),
        (f"cloudflare://{quote(TOKEN, safe='')}@api.cloudflare.com?zone=x", "parameter 'zone'"),
    ],
)
def test_bad_urls(url: str, says: str) -> None:
    with pytest.raises(ValidationFailed, match=says) as err:
        build(url)
    assert TOKEN not in err.value.message


def test_the_token_is_not_in_repr() -> None:
    provider = build("cloudflare://s3cr3t-t0ken@api.cloudflare.com")
    assert isinstance(provider, Cloudflare)
    assert "s3cr3t" not in repr(provider)
    assert provider.endpoint == "https://api.cloudflare.com"


JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
RECORDISH = st.fixed_dictionaries(
    {},
    optional={
        "id": JSONISH,
        "name": JSONISH | st.just("acme.test"),
        "type": JSONISH | st.sampled_from(["TXT", "MX", "A", "CNAME"]),
        "content": JSONISH | st.from_regex(r'"[a-z =;]{0,20}"( "[a-z]{0,5}")?', fullmatch=True),
        "ttl": JSONISH,
        "priority": JSONISH,
    },
)


@given(JSONISH | RECORDISH)
def test_whatever_cloudflare_lists_is_read_or_skipped(item: object) -> None:
    record = _record(item)
    assert record is None or (record.id is not None and record.type.isupper())
