"""A running agentid on ``plivo+http://`` (a local Plivo, plivo_server.py), both stores:
provision hangs our webhook on the Application, a V3-signed SMS (either header Plivo
uses) is stored once with its code, a pending purchase shows as pending, a project's own
Plivo account verifies with its own token only."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from agentid.phone.collector import NumberCollector
from agentid.phone.repository import PhoneRepository
from agentid.providers.registry import Transports
from tests.conftest import Service
from tests.conftest import serving
from tests.phone.contract import serving as vendor_serving
from tests.phone.plivo_server import TOKEN
from tests.phone.plivo_server import Plivo
from tests.phone.plivo_server import stocked
from tests.phone.webhook_helpers import PUBLIC
from tests.phone.webhook_helpers import plivo_form
from tests.phone.webhook_helpers import post_plivo
from tests.service import assert_error
from tests.service import create_project


@pytest.fixture
async def service(backend: str, tmp_path: Path, plivo: Plivo) -> AsyncIterator[Service]:
    async with serving(tmp_path / "data", backend, phone_url=plivo.url(), public_url=PUBLIC) as (
        started,
        _,
    ):
        yield started


async def provision(service: Service, project_id: str = "acme") -> dict[str, object]:
    await create_project(service, project_id)
    r = await service.http.post(
        f"/projects/{project_id}/phone/provision", json={"area_code": "415"}
    )
    assert r.status_code == 201, r.text
    return dict(r.json())


async def listed(service: Service, project_id: str = "acme") -> list[dict[str, object]]:
    r = await service.http.get(f"/projects/{project_id}/phone/messages")
    return list(r.json()["messages"])


async def test_provision_inbound_release(service: Service, plivo: Plivo) -> None:
    number = str((await provision(service))["number"])
    (app,) = plivo.apps.values()
    assert app["message_url"] == PUBLIC + "/webhooks/plivo/sms"
    assert plivo.owned[number.removeprefix("+")] == app["app_id"]

    form = plivo_form(number, "+15005550006", "123-456 is your Acme login code")
    r = await post_plivo(service, form, TOKEN)
    assert r.status_code == 200 and r.text.endswith("<Response/>")
    (sms,) = await listed(service)
    assert (sms["from"], sms["to"]) == ("+15005550006", number)
    codes = (await service.http.get("/projects/acme/codes", params={"channel": "sms"})).json()
    assert [c["value"] for c in codes["codes"]] == ["123456"]
    messaging = await post_plivo(service, form, TOKEN, header="X-Plivo-Signature-MA-V3")
    assert messaging.status_code == 200  # the messaging header is accepted too: a retry
    assert len(await listed(service)) == 1

    for r in (
        await post_plivo(service, form, TOKEN, sign=False),
        await post_plivo(service, form, "wrong-token"),
        await post_plivo(service, [*form[:2], ("Text", "999999"), *form[3:]], TOKEN, nonce=""),
    ):
        assert_error(r, 403, "forbidden")
    assert len(await listed(service)) == 1

    assert (await service.http.delete("/projects/acme/phone")).status_code == 200
    assert plivo.released == [number.removeprefix("+")]


async def test_pending_purchase(service: Service, plivo: Plivo) -> None:
    plivo.pending = True
    number = await provision(service)
    assert number["status"] == "pending"
    again = await service.http.post("/projects/acme/phone/provision", json={})
    assert_error(again, 409, "conflict")
    form = plivo_form(str(number["number"]), "+15005550006", "code 555123")
    assert (await post_plivo(service, form, TOKEN)).status_code == 200
    assert len(await listed(service)) == 1

    # GET asks Plivo again: still pending (404 on the account), then listed: active
    digits = str(number["number"]).removeprefix("+")
    shown = (await service.http.get("/projects/acme/phone")).json()
    assert shown["status"] == "pending"
    assert any(s.method == "GET" and s.path.endswith(f"/Number/{digits}/") for s in plivo.seen)
    plivo.fail(503, "service unavailable")  # Plivo down: the number is shown, still pending
    assert (await service.http.get("/projects/acme/phone")).json()["status"] == "pending"
    plivo.fulfil(digits)
    shown = (await service.http.get("/projects/acme/phone")).json()
    assert (shown["status"], shown["number"]) == ("active", number["number"])
    asked = len(plivo.seen)
    assert (await service.http.get("/projects/acme/phone")).json()["status"] == "active"
    assert len(plivo.seen) == asked  # an active number is not asked about again


async def test_the_collector_settles_pending_numbers(
    service: Service, plivo: Plivo, http: httpx.AsyncClient
) -> None:
    plivo.pending = True
    number = str((await provision(service))["number"])
    later = str((await provision(service, "beta"))["number"])
    collector = NumberCollector(service.running.runtime, Transports(http=http))
    assert await collector.once() == 0  # nothing released: inactivity collection is off
    plivo.fulfil(number.removeprefix("+"))
    await collector.once()
    async with service.running.runtime.sessions() as session:
        rows = await PhoneRepository(session).pending()
        assert [r.e164 for r in rows] == [later]
        acme = await PhoneRepository(session).live("acme")
        assert acme is not None and acme.status == "active"


async def test_project_account_verifies_with_its_own_token(service: Service, plivo: Plivo) -> None:
    own = Plivo(auth_id="SAOWNACCOUNT12345678", token="own-token")
    own.stock.append(stocked("14155550300"))
    with vendor_serving(own):
        await create_project(service, "beta")
        r = await service.http.put("/projects/beta/providers/phone", json={"url": own.url()})
        assert r.status_code == 200, r.text
        r = await service.http.post("/projects/beta/phone/provision", json={})
        assert r.status_code == 201, r.text
        assert own.owned and not plivo.owned
        number = r.json()["number"]
        form = plivo_form(number, "+15005550006", "code 777888")
        assert_error(await post_plivo(service, form, TOKEN), 403)  # the service's token
        assert (await post_plivo(service, form, "own-token")).status_code == 200
        assert len(await listed(service, "beta")) == 1
        acme = await provision(service)  # on the service's account, beside beta's
        assert await listed(service, "acme") == []
        other = plivo_form(str(acme["number"]), "+15005550006", "code 111999")
        assert_error(await post_plivo(service, other, "own-token"), 403)
        assert (await post_plivo(service, other, TOKEN)).status_code == 200
        assert [m["body"] for m in await listed(service, "beta")] == ["code 777888"]


async def test_a_signed_text_with_nul_is_stored_with_it_replaced(service: Service) -> None:
    """A V3-signed SMS whose Text holds a NUL was a 500 on PostgreSQL (its text cannot
    hold one): it is stored with U+FFFD in its place, as mail is."""
    number = str((await provision(service))["number"])
    r = await post_plivo(service, plivo_form(number, "+15005550006", "a\x00b 123456"), TOKEN)
    assert r.status_code == 200, r.text
    (sms,) = await listed(service)
    assert sms["body"] == "a\ufffdb 123456"
