"""A running agentid on ``twilio+http://`` (a local Twilio, twilio_server.py), both stores:
provision sets our public webhook, a signed SMS is stored once and its code extracted,
every unsigned, forged or misdirected request is 403 with nothing stored, provider
errors reach the API with Twilio's code, release gives the number back."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest

from agentid.app import create_app
from agentid.client import AsyncClient
from agentid.errors import SmsFiltered
from agentid.errors import Timeout
from agentid.errors import ValidationFailed
from agentid.providers.phone.signatures import twilio_signature
from tests.conftest import ADMIN
from tests.conftest import Service
from tests.conftest import make_settings
from tests.conftest import serving
from tests.phone.twilio_server import TOKEN
from tests.phone.twilio_server import Twilio
from tests.phone.webhook_helpers import PUBLIC
from tests.phone.webhook_helpers import post_twilio
from tests.phone.webhook_helpers import twilio_form
from tests.service import assert_error
from tests.service import create_project
from tests.service import listening

TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'


@pytest.fixture
async def service(backend: str, tmp_path: Path, twilio: Twilio) -> AsyncIterator[Service]:
    async with serving(
        tmp_path / "data", backend, phone_url=twilio.url(), public_url=PUBLIC + "/"
    ) as (started, _):
        yield started


async def provision(service: Service, project_id: str = "acme") -> str:
    await create_project(service, project_id)
    r = await service.http.post(
        f"/projects/{project_id}/phone/provision", json={"area_code": "415"}
    )
    assert r.status_code == 201, r.text
    return str(r.json()["number"])


async def listed(service: Service, project_id: str = "acme") -> list[dict[str, object]]:
    r = await service.http.get(f"/projects/{project_id}/phone/messages")
    return list(r.json()["messages"])


async def test_provision_inbound_code_release(service: Service, twilio: Twilio) -> None:
    number = await provision(service)
    ((sid, resource),) = twilio.owned.items()
    assert resource["sms_url"] == PUBLIC + "/webhooks/twilio/sms"
    shown = (await service.http.get("/projects/acme/phone")).json()
    assert (shown["provider"], shown["sid"], shown["number"]) == ("twilio", sid, number)
    assert "30038" in shown["warning"]

    form = twilio_form(
        number, "+15005550006", "Your Acme code is 731904. It expires in 10 minutes."
    )
    r = await post_twilio(service, form, TOKEN)
    assert r.status_code == 200, r.text
    assert r.text == TWIML and r.headers["content-type"].startswith("application/xml")
    (sms,) = await listed(service)
    assert sms["body"].startswith("Your Acme code") and sms["from"] == "+15005550006"
    codes = (await service.http.get("/projects/acme/codes", params={"channel": "sms"})).json()
    (code,) = codes["codes"]
    assert code["value"] == "731904" and code["expires_at"] is not None

    # Twilio retries: the same MessageSid stores nothing new, and still answers 200
    assert (await post_twilio(service, form, TOKEN)).status_code == 200
    assert (await post_twilio(service, form[::-1], TOKEN)).status_code == 200  # re-ordered
    assert len(await listed(service)) == 1

    released = await service.http.delete("/projects/acme/phone")
    assert released.status_code == 200 and twilio.released == [sid]
    assert len(await listed(service)) == 1


async def test_refused_webhooks_store_nothing(service: Service, twilio: Twilio) -> None:
    number = await provision(service)
    form = twilio_form(number, "+15005550006", "code 123456")
    tampered = [(k, "code 999999" if k == "Body" else v) for k, v in form]
    good = twilio_form(number, "+15005550006", "code 123456")[0]
    cases = [
        await post_twilio(service, form, TOKEN, sign=False),
        await post_twilio(service, form, "not-the-token"),
        await post_twilio(service, form, TOKEN, signature="AAAA"),
        await post_twilio(service, tampered, TOKEN, signature=_sig(form)),
        await post_twilio(service, [*form, ("Extra", "1")], TOKEN, signature=_sig(form)),
        # signed for the address the server was reached at, not the public one
        await post_twilio(
            service, form, TOKEN, signed_url=service.running.url + "/webhooks/twilio/sms"
        ),
        await post_twilio(service, form, TOKEN, signed_url=PUBLIC + "/webhooks/plivo/sms"),
    ]
    for r in cases:
        assert_error(r, 403, "forbidden")
    assert good and await listed(service) == []
    codes = (await service.http.get("/projects/acme/codes")).json()["codes"]
    assert codes == []


async def test_a_twilio_sms_at_another_schemes_route_is_refused(
    service: Service, twilio: Twilio
) -> None:
    """``/webhooks/{scheme}/sms`` serves every provider that posts SMS: a form signed the
    Twilio way, for the very URL it is posted to, is refused at any other scheme's route
    (Plivo's, the sandbox's which signs nothing, one no provider has), and a scheme that is
    no scheme is 422."""
    number = await provision(service)
    form = twilio_form(number, "+15005550006", "code 123456")
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    async with httpx.AsyncClient(base_url=service.running.url, timeout=30) as anyone:
        for scheme in ("plivo", "sandbox", "nosuch"):
            path = f"/webhooks/{scheme}/sms"
            signed = {**headers, "X-Twilio-Signature": twilio_signature(TOKEN, PUBLIC + path, form)}
            r = await anyone.post(path, content=urlencode(form), headers=signed)
            assert_error(r, 403, "forbidden")
        for bad in ("Twilio", "x" * 40, "tw%20ilio", "twilio.sms"):
            r = await anyone.post(f"/webhooks/{bad}/sms", content=urlencode(form), headers=headers)
            assert_error(r, 422)
    assert await listed(service) == []


def _sig(form: list[tuple[str, str]]) -> str:
    return twilio_signature(TOKEN, PUBLIC + "/webhooks/twilio/sms", form)


async def test_unknown_number_and_hostile_bodies(service: Service, twilio: Twilio) -> None:
    await provision(service)
    stranger = twilio_form("+14155559999", "+15005550006", "code 123456")
    assert (await post_twilio(service, stranger, TOKEN)).text == TWIML  # 200, nothing stored
    assert_error(await post_twilio(service, stranger, TOKEN, sign=False), 403)
    async with httpx.AsyncClient(base_url=service.running.url, timeout=30) as anyone:
        headers = {"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": "x"}
        for body in (b"\xff\xfe", b"a=1&&b", b"%zz=%", b"=" * 10):
            r = await anyone.post("/webhooks/twilio/sms", content=body, headers=headers)
            assert_error(r, 403)
        r = await anyone.post(
            "/webhooks/twilio/sms", content=b"a=" + b"x" * 70_000, headers=headers
        )
        assert_error(r, 413)
        r = await anyone.post(
            "/webhooks/twilio/sms", content="&".join(["a=1"] * 600), headers=headers
        )
        assert_error(r, 403)
        assert_error(await anyone.get("/webhooks/twilio/sms"), 405)
        assert_error(await anyone.post("/sandbox/sms", json={}), 401)
    assert await listed(service) == []


async def test_concurrent_retries_store_one(service: Service) -> None:
    number = await provision(service)
    form = twilio_form(number, "+15005550006", "Your verification code: 246810")
    answers = await asyncio.gather(*(post_twilio(service, form, TOKEN) for _ in range(8)))
    assert [r.status_code for r in answers] == [200] * 8
    assert len(await listed(service)) == 1
    codes = (await service.http.get("/projects/acme/codes")).json()["codes"]
    assert [c["value"] for c in codes] == ["246810"]


async def test_provider_errors_reach_the_api(service: Service, twilio: Twilio) -> None:
    await create_project(service, "acme")
    url = "/projects/acme/phone/provision"
    twilio.bundle_required = {s["phone_number"] for s in twilio.stock}  # regulated
    r = await service.http.post(url, json={})
    body = assert_error(r, 422, "provider_rejected")
    assert "21649: Phone Number Requires a Bundle" in body["error"]["message"]
    assert TOKEN not in r.text
    twilio.bundle_required = set()
    twilio.fail(401, 20003)
    assert_error(await service.http.post(url, json={}), 502, "provider_auth")
    twilio.fail(429, 20429, headers={"Retry-After": "30"})
    r = await service.http.post(url, json={})
    assert_error(r, 429, "provider_rate_limited")
    assert r.headers["retry-after"] == "30"
    twilio.fail(503, 20503)
    assert_error(await service.http.post(url, json={}), 502, "provider_unavailable")
    r = await service.http.post(url, json={"area_code": "999"})
    assert_error(r, 422, "provider_rejected")  # no numbers in that area
    assert_error(await service.http.get("/projects/acme/phone"), 404)  # nothing half-made
    assert twilio.owned == {}
    assert_error(
        await service.http.post("/sandbox/sms", json={"to": "+1", "from": "a", "body": "b"}), 404
    )


def test_public_url_is_required(tmp_path: Path, twilio: Twilio) -> None:
    with pytest.raises(ValidationFailed, match="AGENTID_PUBLIC_URL is required"):
        create_app(make_settings(tmp_path, phone_url=twilio.url()))


def alert(number: str, code: str) -> list[tuple[str, str]]:
    """A Debugger webhook's fields, as Twilio posts them."""
    payload = {
        "resource_sid": "SM" + "1" * 32,
        "service_sid": None,
        "error_code": code,
        "more_info": {"To": number, "From": "+15005550006", "Msg": "Message filtered"},
    }
    return [
        ("Sid", "NO" + "2" * 32),
        ("AccountSid", "AC" + "0123456789abcdef" * 2),
        ("Timestamp", "2026-01-01T10:00:00Z"),
        ("Level", "Error"),
        ("PayloadType", "application/json"),
        ("Payload", json.dumps(payload)),
    ]


async def post_alert(
    service: Service, form: list[tuple[str, str]], sign: bool = True
) -> httpx.Response:
    url = PUBLIC + "/webhooks/twilio/alerts"
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if sign:
        headers["X-Twilio-Signature"] = twilio_signature(TOKEN, url, form)
    async with httpx.AsyncClient(base_url=service.running.url, timeout=30) as client:
        return await client.post(
            "/webhooks/twilio/alerts", content=urlencode(form), headers=headers
        )


async def test_filtered_sms_ends_a_code_wait(service: Service) -> None:
    number = await provision(service)
    waiting = asyncio.create_task(
        service.http.get("/projects/acme/codes", params={"channel": "sms", "wait": 30})
    )
    await listening(service, "acme")
    assert_error(await post_alert(service, alert(number, "30038"), sign=False), 403)
    assert (await post_alert(service, alert(number, "11200"))).status_code == 200  # not ours to say
    assert not waiting.done()
    assert (await post_alert(service, alert(number, "30038"))).status_code == 200
    answer = (await asyncio.wait_for(waiting, 10)).json()
    assert answer["codes"] == []
    (notice,) = answer["notices"]
    assert (notice["kind"], notice["error_code"]) == ("sms.filtered", "30038") and notice["at"]
    later = await service.http.get("/projects/acme/codes", params={"since": "2020-01-01T00:00:00Z"})
    assert [n["error_code"] for n in later.json()["notices"]] == ["30038"]
    email = await service.http.get(
        "/projects/acme/codes", params={"channel": "email", "since": "2020-01-01T00:00:00Z"}
    )
    assert email.json()["notices"] == []
    stranger = await post_alert(service, alert("+14155559999", "30038"))
    assert stranger.status_code == 200  # signed with the service's token: acknowledged, dropped


async def test_the_client_raises_sms_filtered(service: Service) -> None:
    number = await provision(service)
    async with AsyncClient(service.running.url, ADMIN, project="acme") as agent:
        with pytest.raises(Timeout) as nothing:  # no alert yet: a plain timeout
            await agent.wait_for_code(channel="sms", timeout=0.2)
        assert type(nothing.value) is Timeout
        waiting = asyncio.create_task(agent.wait_for_code(channel="sms", timeout=30))
        await listening(service, "acme")
        assert (await post_alert(service, alert(number, "30038"))).status_code == 200
        with pytest.raises(SmsFiltered) as filtered:
            await asyncio.wait_for(waiting, 10)  # at once, not after the 30 s
        (notice,) = filtered.value.notices
        assert (notice.kind, notice.error_code) == ("sms.filtered", "30038")
        assert "30038" in filtered.value.message
        with pytest.raises(SmsFiltered):  # asked again: the notice is still in the window
            await agent.wait_for_code(channel="sms", timeout=0)
        with pytest.raises(Timeout) as mail:  # email codes are not concerned
            await agent.wait_for_code(channel="email", timeout=0)
        assert type(mail.value) is Timeout


async def test_every_field_is_kept(service: Service) -> None:
    number = await provision(service)
    form = twilio_form(number, "+15005550006", "see picture")
    form = [(k, "2" if k == "NumMedia" else v) for k, v in form]
    form += [("MediaUrl0", "https://api.twilio.com/m/1"), ("MediaContentType0", "image/png")]
    form += [("MediaUrl1", "https://api.twilio.com/m/2"), ("FutureField", "kept")]
    assert (await post_twilio(service, form, TOKEN)).status_code == 200
    (sms,) = await listed(service)
    assert sms["media"] == ["https://api.twilio.com/m/1", "https://api.twilio.com/m/2"]
    detail = (await service.http.get(f"/projects/acme/phone/messages/{sms['id']}")).json()
    assert detail["params"] == [list(p) for p in form]
    await create_project(service, "other")
    assert_error(await service.http.get(f"/projects/other/phone/messages/{sms['id']}"), 404)
    assert_error(await service.http.get("/projects/acme/phone/messages/nope"), 404)


async def test_a_to_that_is_no_number_is_refused_before_any_lookup(service: Service) -> None:
    """A ``To`` holding a NUL, a lone surrogate or anything but ASCII digits names none of
    our numbers: unsigned, it is the 403 of any unsigned request (it was a 500 on
    PostgreSQL, whose text cannot hold a NUL, and for a surrogate on both stores); signed
    by the service, acknowledged and dropped."""
    await provision(service)
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    async with httpx.AsyncClient(base_url=service.running.url, timeout=30) as anyone:
        for scheme in ("twilio", "plivo", "sandbox"):
            r = await anyone.post(
                f"/webhooks/{scheme}/sms",
                content=b"To=%2B1555%00&From=x&Body=y&MessageSid=S",
                headers=headers,
            )
            assert_error(r, 403, "forbidden")
    for to in ("+1555\x00", "+14155550100\x00", "+1 (415) 555-0100", "١٤١٥٥٥٥٠١٠٠"):
        form = twilio_form(to, "+15005550006", "code 123456")
        assert (await post_twilio(service, form, TOKEN)).text == TWIML
        assert_error(await post_twilio(service, form, TOKEN, sign=False), 403)
    for to in ("\x00", "\ud800", "+1555\x00"):
        assert (await post_alert(service, alert(to, "30038"))).status_code == 200
        assert_error(await post_alert(service, alert(to, "30038"), sign=False), 403)
    assert await listed(service) == []


async def test_a_deeply_nested_alert_payload_is_no_alert(service: Service) -> None:
    """JSON nested past Python's recursion limit was a 500: it is a payload naming nothing,
    403 unsigned, acknowledged when signed."""
    form = [*alert("+14155550100", "30038")[:-1], ("Payload", "[" * 5000)]
    assert_error(await post_alert(service, form, sign=False), 403)
    assert (await post_alert(service, form)).status_code == 200


async def test_a_signed_body_with_nul_is_stored_with_it_replaced(service: Service) -> None:
    """A signed SMS whose fields hold a NUL (PostgreSQL text cannot) is stored with U+FFFD
    in its place, as mail is, not refused with a 500: the rest is what Twilio sent."""
    number = await provision(service)
    form = twilio_form(number, "+1500555\x000006", "code\x00 123456")
    assert (await post_twilio(service, form, TOKEN)).text == TWIML
    (sms,) = await listed(service)
    assert (sms["body"], sms["from"]) == ("code\ufffd 123456", "+1500555\ufffd0006")
    detail = (await service.http.get(f"/projects/acme/phone/messages/{sms['id']}")).json()
    assert ["Body", "code\ufffd 123456"] in detail["params"]
    codes = (await service.http.get("/projects/acme/codes", params={"channel": "sms"})).json()
    assert [c["value"] for c in codes["codes"]] == ["123456"]
