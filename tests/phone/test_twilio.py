"""``twilio://`` against a local Twilio (twilio_server.py): search, buy with our webhook,
release, each of Twilio's errors through the one failure table with Twilio's code, the
URL's checks. No message ever shows the auth token."""

from __future__ import annotations

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
from agentid.providers.base import OwnedNumber
from agentid.providers.phone.twilio import TwilioPhone
from tests.phone.conftest import build
from tests.phone.twilio_server import ACCOUNT
from tests.phone.twilio_server import TOKEN
from tests.phone.twilio_server import Twilio

SMS = frozenset({Capability.SMS})
HOOK = "https://agentid.example/webhooks/twilio/sms"


def phone(twilio: Twilio, http: httpx.AsyncClient, **url: str) -> TwilioPhone:
    built = build(twilio.url(**url), http)
    assert isinstance(built, TwilioPhone)
    return built


async def fails(call: object) -> ProviderError:
    with pytest.raises(ProviderError) as err:
        await call  # type: ignore[misc]
    message = err.value.message
    assert TOKEN not in message and quote(TOKEN, safe="") not in message
    assert err.value.__cause__ is None
    return err.value


async def test_search_buy_release(twilio: Twilio, http: httpx.AsyncClient) -> None:
    provider = phone(twilio, http)
    found = await provider.search_numbers(NumberSearch("US", SMS, area_code="415", limit=3))
    assert [n.e164 for n in found] == ["+14155550100", "+14155550101", "+14155550102"]
    assert Capability.SMS in found[0].capabilities and found[0].region == "CA"
    search = twilio.seen[-1]
    query = dict(parse_qsl(search.query))
    assert search.path.endswith("/AvailablePhoneNumbers/US/Local.json")
    assert query["SmsEnabled"] == "true" and query["AreaCode"] == "415"
    assert query["ExcludeAllAddressRequired"] == "true" and query["PageSize"] == "3"

    owned = await provider.buy_number(found[0], sms_url=HOOK, owner="acme")
    assert owned.e164 == "+14155550100" and owned.provider_id.startswith("PN")
    resource = twilio.owned[owned.provider_id]
    assert (resource["sms_url"], resource["sms_method"]) == (HOOK, "POST")

    await provider.release_number(owned)
    assert twilio.released == [owned.provider_id]
    await provider.release_number(owned)  # gone already: 404 counts as released


async def test_toll_free_and_address_filters(twilio: Twilio, http: httpx.AsyncClient) -> None:
    provider = phone(twilio, http)
    free = await provider.search_numbers(NumberSearch("US", SMS, line_type=LineType.TOLLFREE))
    assert [n.e164 for n in free] == ["+18005550100"]
    address_needed = await provider.search_numbers(NumberSearch("US", SMS, area_code="212"))
    assert address_needed == []


async def test_twilio_errors_keep_their_code(twilio: Twilio, http: httpx.AsyncClient) -> None:
    provider = phone(twilio, http)
    needs_address = AvailableNumber("+12125550100", "US", SMS)
    err = await fails(provider.buy_number(needs_address, sms_url=HOOK, owner="acme"))
    assert isinstance(err, ProviderRejected) and err.status == 422
    assert "21631: Phone Number Requires an Address" in err.message
    twilio.bundle_required.add("+14155550101")
    bundle = AvailableNumber("+14155550101", "US", SMS)
    err = await fails(provider.buy_number(bundle, sms_url=HOOK, owner="acme"))
    assert "21649" in err.message
    gone = AvailableNumber("+14155559999", "US", SMS)
    err = await fails(provider.buy_number(gone, sms_url=HOOK, owner="acme"))
    assert "21422" in err.message and isinstance(err, ProviderRejected)
    found = AvailableNumber("+14155550102", "US", SMS)
    err = await fails(provider.buy_number(found, sms_url="ftp://x", owner="a"))
    assert "21502" in err.message and twilio.owned == {}
    err = await fails(provider.search_numbers(NumberSearch("ZZ", SMS)))
    assert isinstance(err, ProviderRejected) and "20404" in err.message


@pytest.mark.parametrize(
    ("status", "code", "kind", "http_status"),
    [
        (429, 20429, ProviderRateLimited, 429),
        (500, 20500, ProviderUnavailable, 502),
        (503, 20503, ProviderUnavailable, 502),
        (401, 20003, ProviderAuth, 502),
    ],
)
async def test_failures_mapped(
    twilio: Twilio,
    http: httpx.AsyncClient,
    status: int,
    code: int,
    kind: type[ProviderError],
    http_status: int,
) -> None:
    twilio.fail(status, code, headers={"Retry-After": "7"})
    err = await fails(phone(twilio, http).search_numbers(NumberSearch("US", SMS)))
    assert type(err) is kind and err.status == http_status and str(code) in err.message
    if isinstance(err, ProviderRateLimited):
        assert err.retry_after == 7 and err.headers() == {"Retry-After": "7"}


async def test_wrong_token(twilio: Twilio, http: httpx.AsyncClient) -> None:
    err = await fails(
        phone(twilio, http, token="wrong-token").search_numbers(NumberSearch("US", SMS))
    )
    assert isinstance(err, ProviderAuth) and "20003: Authenticate" in err.message
    other = "AC" + "f" * 32
    err = await fails(phone(twilio, http, account=other).search_numbers(NumberSearch("US", SMS)))
    assert isinstance(err, ProviderAuth)


async def test_unreachable(twilio: Twilio, http: httpx.AsyncClient) -> None:
    provider = build(f"twilio+http://{ACCOUNT}:{quote(TOKEN, safe='')}@127.0.0.1:9", http)
    err = await fails(provider.search_numbers(NumberSearch("US", SMS)))
    assert isinstance(err, ProviderUnavailable)


async def test_input_checked_before_any_call(twilio: Twilio, http: httpx.AsyncClient) -> None:
    provider = phone(twilio, http)
    for country, area in (("us", None), ("US", "41"), ("US", "4155"), ("U1", None)):
        with pytest.raises(ValidationFailed):
            await provider.search_numbers(NumberSearch(country, SMS, area_code=area))
    with pytest.raises(ValidationFailed):
        await provider.release_number(OwnedNumber("+14155550100", "../../Accounts"))
    assert twilio.seen == []


@pytest.mark.parametrize(
    "url",
    [
        "twilio://api.twilio.com",
        f"twilio://{ACCOUNT}@api.twilio.com",
        "twilio://ACnothex:token@api.twilio.com",
        f"twilio://{ACCOUNT}:token@api.example.com",
        f"twilio://{ACCOUNT}:token@api.twilio.com:8443",
        f"twilio://{ACCOUNT}:token@api.twilio.com/2010-04-01",
        f"twilio://{ACCOUNT}:token@api.twilio.com?subaccount=1",
        f"twilio://{ACCOUNT}:tok%0Aen@api.twilio.com",
    ],
)
def test_bad_urls(url: str) -> None:
    with pytest.raises(ValidationFailed) as err:
        build(url)
    assert "token" not in err.value.message.replace("auth token", "")


def test_repr_hides_the_token(twilio: Twilio) -> None:
    provider = build(f"twilio://{ACCOUNT}:{quote(TOKEN, safe='')}@api.twilio.com")
    assert TOKEN not in repr(provider) and provider.webhook_path == "/webhooks/twilio/sms"


async def test_lookup_line_type_never_fails_a_purchase(
    twilio: Twilio, http: httpx.AsyncClient
) -> None:
    provider = build(twilio.url() + "?lookup=1", http)
    (first, second) = await provider.search_numbers(
        NumberSearch("US", SMS, area_code="415", limit=2)
    )
    owned = await provider.buy_number(first, sms_url=HOOK, owner="acme")
    assert owned.line_type == "nonFixedVoip"
    lookup = twilio.seen[-1]
    assert lookup.path == f"/v2/PhoneNumbers/{first.e164}"
    assert dict(parse_qsl(lookup.query)) == {"Fields": "line_type_intelligence"}
    twilio.lookup_fails = True
    bought = await provider.buy_number(second, sms_url=HOOK, owner="beta")
    assert bought.line_type is None and bought.provider_id in twilio.owned
    plain = await phone(twilio, http).buy_number(
        (await provider.search_numbers(NumberSearch("US", SMS, area_code="415")))[0],
        sms_url=HOOK,
        owner="c",
    )
    assert plain.line_type is None and not twilio.seen[-1].path.startswith("/v2/")
