"""``plivo://`` against a local Plivo (plivo_server.py): search, the Application our
webhook hangs on (made once, reused, pointed back at us), buy (fulfilled or pending),
release, Plivo's errors through the one failure table, the URL's checks."""

from __future__ import annotations

import json
from urllib.parse import parse_qsl
from urllib.parse import quote

import httpx
import pytest

from agentid.errors import ProviderAuth
from agentid.errors import ProviderError
from agentid.errors import ProviderRateLimited
from agentid.errors import ProviderRejected
from agentid.errors import ProviderUnavailable
from agentid.errors import ValidationFailed
from agentid.providers.base import AvailableNumber
from agentid.providers.base import Capability
from agentid.providers.base import LineType
from agentid.providers.base import NumberSearch
from agentid.providers.base import NumberStatus
from agentid.providers.phone.plivo import PlivoPhone
from tests.phone.conftest import build
from tests.phone.plivo_server import AUTH_ID
from tests.phone.plivo_server import TOKEN
from tests.phone.plivo_server import Plivo

SMS = frozenset({Capability.SMS})
HOOK = "https://agentid.example/webhooks/plivo/sms"


def phone(plivo: Plivo, http: httpx.AsyncClient, token: str | None = None) -> PlivoPhone:
    built = build(plivo.url(token), http)
    assert isinstance(built, PlivoPhone)
    return built


async def fails(call: object) -> ProviderError:
    with pytest.raises(ProviderError) as err:
        await call  # type: ignore[misc]
    assert TOKEN not in err.value.message and quote(TOKEN, safe="") not in err.value.message
    return err.value


async def test_search_buy_release(plivo: Plivo, http: httpx.AsyncClient) -> None:
    provider = phone(plivo, http)
    found = await provider.search_numbers(NumberSearch("US", SMS, area_code="415", limit=2))
    assert [n.e164 for n in found] == ["+14155550200", "+14155550201"]
    assert found[0].monthly_cost == "0.80000 USD"
    query = dict(parse_qsl(plivo.seen[-1].query))
    assert query == {
        "country_iso": "US",
        "type": "local",
        "limit": "2",
        "services": "sms",
        "pattern": "415",
    }

    owned = await provider.buy_number(found[0], sms_url=HOOK, owner="acme")
    assert (owned.e164, owned.provider_id, owned.status) == (
        "+14155550200",
        "14155550200",
        NumberStatus.ACTIVE,
    )
    (app,) = plivo.apps.values()
    assert (app["app_name"], app["message_url"], app["message_method"]) == ("agentid", HOOK, "POST")
    assert plivo.owned["14155550200"] == app["app_id"]

    # the next purchase reuses the application, pointed back at us if it was changed
    app["message_url"] = "https://elsewhere.example/"
    plivo.pending = True
    second = await provider.buy_number(found[1], sms_url=HOOK, owner="other")
    assert second.status is NumberStatus.PENDING and len(plivo.apps) == 1
    assert app["message_url"] == HOOK

    # a pending purchase: not on the account (404) until Plivo completes it
    assert await provider.number_status(second) is NumberStatus.PENDING
    assert (plivo.seen[-1].method, plivo.seen[-1].path) == (
        "GET",
        f"/v1/Account/{AUTH_ID}/Number/14155550201/",
    )
    plivo.fulfil("14155550201")
    assert await provider.number_status(second) is NumberStatus.ACTIVE
    assert await provider.number_status(owned) is NumberStatus.ACTIVE
    plivo.fail(500, "internal error")
    assert isinstance(await fails(provider.number_status(second)), ProviderUnavailable)

    await provider.release_number(owned)
    assert plivo.released == ["14155550200"]
    await provider.release_number(owned)  # gone already


async def test_toll_free(plivo: Plivo, http: httpx.AsyncClient) -> None:
    found = await phone(plivo, http).search_numbers(
        NumberSearch("US", SMS, line_type=LineType.TOLLFREE)
    )
    assert [n.e164 for n in found] == ["+18005550200"]


async def test_plivo_errors(plivo: Plivo, http: httpx.AsyncClient) -> None:
    provider = phone(plivo, http)
    missing = AvailableNumber("+14155559999", "US", SMS)
    err = await fails(provider.buy_number(missing, sms_url=HOOK, owner="a"))
    assert isinstance(err, ProviderRejected) and "not found" in err.message
    err = await fails(phone(plivo, http, "wrong").search_numbers(NumberSearch("US", SMS)))
    assert isinstance(err, ProviderAuth) and err.status == 502
    plivo.fail(400, "Number requires an address (compliance)")
    err = await fails(provider.search_numbers(NumberSearch("US", SMS)))
    assert isinstance(err, ProviderRejected) and "requires an address" in err.message
    plivo.fail(429, "too many requests", headers={"Retry-After": "3"})
    err = await fails(provider.search_numbers(NumberSearch("US", SMS)))
    assert isinstance(err, ProviderRateLimited) and err.retry_after == 3
    plivo.fail(500, "internal error")
    assert isinstance(
        await fails(provider.search_numbers(NumberSearch("US", SMS))), ProviderUnavailable
    )
    assert plivo.owned == {}


async def test_nothing_called_for_bad_input(plivo: Plivo, http: httpx.AsyncClient) -> None:
    provider = phone(plivo, http)
    with pytest.raises(ValidationFailed):
        await provider.search_numbers(NumberSearch("usa", SMS))
    with pytest.raises(ValidationFailed):
        await provider.buy_number(AvailableNumber("+1/../x", "US", SMS), sms_url=HOOK, owner="a")
    assert plivo.seen == []


@pytest.mark.parametrize(
    "url",
    [
        "plivo://api.plivo.com",
        "plivo://MAshort:t@api.plivo.com",
        f"plivo://{AUTH_ID}:t@evil.example",
        f"plivo://{AUTH_ID}:t@api.plivo.com?app=bad%20name",
        f"plivo://{AUTH_ID}:t@api.plivo.com?nope=1",
    ],
)
def test_bad_urls(url: str) -> None:
    with pytest.raises(ValidationFailed):
        build(url)


def test_read_sms_keeps_every_field() -> None:
    from agentid.providers.base import WebhookRequest

    provider = build(f"plivo://{AUTH_ID}:t@api.plivo.com")
    params = (
        ("From", "14155550100"),
        ("To", "14155550201"),
        ("Text", "Code 123456"),
        ("Type", "mms"),
        ("MessageUUID", "7a2b"),
        ("Media0", "https://media.plivo.com/1"),
        ("Media1", "javascript:alert(1)"),
        ("PowerpackUUID", ""),
    )
    hook = WebhookRequest("POST", HOOK, (), b"", params)
    sms = provider.read_sms(hook)
    assert (sms.from_number, sms.to_number, sms.body) == (
        "+14155550100",
        "+14155550201",
        "Code 123456",
    )
    assert sms.media == ("https://media.plivo.com/1",) and sms.params == params
    with pytest.raises(ValidationFailed):
        provider.read_sms(WebhookRequest("POST", HOOK, (), b"", params[:2]))
    assert json.dumps(sms.params)
