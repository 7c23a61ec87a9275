"""``twilio://...?subaccounts=1``: a subaccount per project (the seed's credential
question, answered as an option), the number bought inside it, its webhooks verified
with the subaccount's own token, the subaccount closed on release, or at once when the
purchase fails. Against the local Twilio, both stores."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from agentid.errors import ProviderRejected
from agentid.providers.base import AvailableNumber
from agentid.providers.base import Capability
from agentid.providers.base import NumberSearch
from tests.conftest import Service
from tests.conftest import serving
from tests.phone.conftest import build
from tests.phone.twilio_server import TOKEN
from tests.phone.twilio_server import Twilio
from tests.phone.webhook_helpers import PUBLIC
from tests.phone.webhook_helpers import post_twilio
from tests.phone.webhook_helpers import twilio_form
from tests.service import assert_error
from tests.service import create_project

SMS = frozenset({Capability.SMS})


async def test_adapter_buys_inside_a_subaccount(twilio: Twilio, http: httpx.AsyncClient) -> None:
    provider = build(twilio.url() + "?subaccounts=1", http)
    (offered,) = await provider.search_numbers(NumberSearch("US", SMS, area_code="415", limit=1))
    owned = await provider.buy_number(offered, sms_url="https://x.example/h", owner="acme")
    (sub,) = twilio.subaccounts.values()
    assert owned.account == sub["sid"] and owned.account_secret == sub["auth_token"]
    assert sub["friendly_name"] == "agentid acme" and "auth_token" not in repr(owned)
    assert twilio.owned[owned.provider_id]["account_sid"] == sub["sid"]
    await provider.release_number(owned)
    assert sub["status"] == "closed" and owned.provider_id not in twilio.owned

    with pytest.raises(ProviderRejected):  # not for sale: the new subaccount is closed again
        await provider.buy_number(
            AvailableNumber("+14155559999", "US", SMS), sms_url=None, owner="b"
        )
    assert [s["status"] for s in twilio.subaccounts.values()] == ["closed", "closed"]


@pytest.fixture
async def service(backend: str, tmp_path: Path, twilio: Twilio) -> AsyncIterator[Service]:
    url = twilio.url() + "?subaccounts=1"
    async with serving(tmp_path / "data", backend, phone_url=url, public_url=PUBLIC) as (s, _):
        yield s


async def test_webhooks_verified_with_the_subaccount_token(
    service: Service, twilio: Twilio
) -> None:
    await create_project(service, "acme")
    r = await service.http.post("/projects/acme/phone/provision", json={"area_code": "415"})
    assert r.status_code == 201, r.text
    number = r.json()["number"]
    (sub,) = twilio.subaccounts.values()
    assert sub["auth_token"] not in r.text
    form = twilio_form(number, "+15005550006", "Your code is 864209")
    assert_error(await post_twilio(service, form, TOKEN), 403)  # the main account's token
    assert (await post_twilio(service, form, sub["auth_token"])).status_code == 200
    codes = (await service.http.get("/projects/acme/codes")).json()["codes"]
    assert [c["value"] for c in codes] == ["864209"]
    assert (await service.http.delete("/projects/acme/phone")).status_code == 200
    assert sub["status"] == "closed"
