"""A human's own phone as an SMS source, on both stores: the secret URL is the credential,
Standard Webhooks signatures are checked when present, the fields of the common
forwarding apps are read, repeats store nothing, and the SMS's codes join ``/codes``."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any
from urllib.parse import urlsplit

import httpx

from agentid.phone.forwarders import secret_key
from tests.conftest import Service
from tests.service import assert_error
from tests.service import create_project
from tests.service import new_token


async def forwarder(service: Service, project_id: str = "acme") -> dict[str, Any]:
    await create_project(service, project_id)
    r = await service.http.post(
        f"/projects/{project_id}/phone/forwarders", json={"number": "+447700900123", "label": "ops"}
    )
    assert r.status_code == 201, r.text
    return dict(r.json())


async def post(
    service: Service, url: str, content: bytes, headers: dict[str, str] | None = None
) -> httpx.Response:
    async with httpx.AsyncClient(base_url=service.running.url, timeout=30) as anyone:
        path = urlsplit(url).path
        return await anyone.post(path, content=content, headers=headers or {})


def signed(secret: str, body: bytes, wid: str = "msg_1", at: int | None = None) -> dict[str, str]:
    stamp = str(at if at is not None else int(time.time()))
    mac = hmac.new(secret_key(secret), f"{wid}.{stamp}.".encode() + body, hashlib.sha256)
    return {
        "webhook-id": wid,
        "webhook-timestamp": stamp,
        "webhook-signature": "v1," + base64.b64encode(mac.digest()).decode(),
        "Content-Type": "application/json",
    }


async def sms(service: Service, project_id: str = "acme") -> list[dict[str, Any]]:
    r = await service.http.get(f"/projects/{project_id}/phone/messages")
    return list(r.json()["messages"])


JSON = {"Content-Type": "application/json"}


async def test_apps_post_and_codes_follow(service: Service) -> None:
    made = await forwarder(service)
    assert made["secret"].startswith("whsec_") and "/webhooks/forwarder/" in made["webhook_url"]
    listed = (await service.http.get("/projects/acme/phone/forwarders")).json()
    assert listed["forwarders"] == [{k: made[k] for k in ("id", "number", "label", "created_at")}]
    url = made["webhook_url"]

    ours = json.dumps(
        {"from": "+15005550006", "body": "Your code is 918273", "sent_at": "2026-01-01T10:00:00Z"}
    ).encode()
    first = await post(service, url, ours, JSON)
    assert first.status_code == 200 and first.json()["stored"] is True
    again = await post(service, url, ours, JSON)  # the same from + body + sent_at
    assert again.json() == {"stored": False, "id": None}
    codes = (await service.http.get("/projects/acme/codes", params={"channel": "sms"})).json()
    (code,) = codes["codes"]
    assert code["value"] == "918273" and code["source"] == {"type": "sms", "id": first.json()["id"]}
    assert code["to"] == ["+447700900123"]

    bogkonstantin = b'{"from":"Bank","text":"OTP 445566","sentStamp":1767225600000,"sim":"1"}'
    pppscn = b"from=%2B15550001&content=G-112233+is+your+code&timestamp=1767225600"
    capcom6 = json.dumps(
        {
            "event": "sms:received",
            "payload": {
                "message": "code 778899",
                "phoneNumber": "+15550002",
                "receivedAt": "2026-01-01T10:00:00Z",
            },
        }
    ).encode()
    for body, kind in (
        (bogkonstantin, JSON),
        (pppscn, {"Content-Type": "application/x-www-form-urlencoded"}),
        (capcom6, JSON),
    ):
        r = await post(service, url, body, kind)
        assert r.status_code == 200 and r.json()["stored"], r.text
    bodies = [m["body"] for m in await sms(service)]
    assert bodies == ["code 778899", "G-112233 is your code", "OTP 445566", "Your code is 918273"]


async def test_signatures_when_present(service: Service) -> None:
    made = await forwarder(service)
    url, secret = made["webhook_url"], made["secret"]
    body = b'{"from": "+15005550006", "body": "code 135790"}'
    assert (await post(service, url, body, signed(secret, body))).json()["stored"] is True
    assert (await post(service, url, body, signed(secret, body))).json()["stored"] is False
    other = "whsec_" + base64.b64encode(b"k" * 24).decode()
    refused = [
        await post(service, url, body, signed(other, body, "msg_2")),
        await post(service, url, body, signed(secret, body, "msg_3", at=int(time.time()) - 600)),
        await post(service, url, body + b" ", signed(secret, body, "msg_4")),
        await post(service, url, body, {**signed(secret, body, "msg_5"), "webhook-signature": ""}),
        await post(service, url, body, {"webhook-id": "msg_6", **JSON}),
        await post(
            service, url, body, {**signed(secret, body, "msg_7"), "webhook-timestamp": "soon"}
        ),
    ]
    for r in refused:
        assert_error(r, 403, "forbidden")
    assert len(await sms(service)) == 1


async def test_urls_tokens_and_bad_bodies(service: Service) -> None:
    made = await forwarder(service)
    url = made["webhook_url"]
    body = b'{"from": "+15005550006", "body": "hi"}'
    base = url.rsplit("/", 1)[0]
    for wrong in (base + "/" + "x" * 43, base + "/short", base + "/" + "%00" * 20):
        assert_error(await post(service, wrong, body, JSON), 404)
    for bad in (
        b"[]",
        b"{",
        b'{"from": "+1"}',
        b'{"from": 5, "body": []}',
        b"\xff",
        b'{"from": "a", "body": "' + b"x" * 1700 + b'"}',
    ):
        assert_error(await post(service, url, bad, JSON), 422)
    assert_error(await post(service, url, b"x" * 70_000, JSON), 413)
    reader = service.client(await new_token(service, "acme", ["read", "write"]))
    async with reader:
        assert_error(
            await reader.post("/projects/acme/phone/forwarders", json={"number": "+15550001"}), 403
        )
        assert_error(await reader.get("/projects/acme/phone/forwarders"), 403)
    for body_ in (
        {"number": "07700 900123"},
        {"number": "+15550001", "extra": 1},
        {"number": "+15550001", "label": ""},
        {"number": "+15550001", "label": "nul\u0000"},  # was a 500 on PostgreSQL
        {"number": "+15550001", "label": "two\r\nlines"},
    ):
        assert_error(await service.http.post("/projects/acme/phone/forwarders", json=body_), 422)
    for wrong in ("%00", "not-an-id", made["id"][:-1]):  # %00 was a 500 on PostgreSQL
        r = await service.http.delete(f"/projects/acme/phone/forwarders/{wrong}")
        assert_error(r, 404, "not_found")

    r = await service.http.delete(f"/projects/acme/phone/forwarders/{made['id']}")
    assert r.status_code == 204
    assert_error(await post(service, url, body, JSON), 404)  # revoked
    assert_error(await service.http.delete(f"/projects/acme/phone/forwarders/{made['id']}"), 404)
    assert (await service.http.get("/projects/acme/phone/forwarders")).json() == {"forwarders": []}
    await create_project(service, "other")
    assert await sms(service, "other") == []


async def test_nul_and_lone_surrogates_are_stored_as_text_can_hold_them(service: Service) -> None:
    """JSON can say ``\\u0000`` (which PostgreSQL text cannot hold) and ``\\ud800`` (which
    no store can encode): each was a 500; the SMS is stored with them replaced as mail's
    text is (agentid.mime.clean), the rest as posted."""
    url = (await forwarder(service))["webhook_url"]
    for body in (
        b'{"from": "+1555", "body": "a\\ud800b"}',
        b'{"from": "+1555", "body": "a\\u0000b"}',
        b'{"from": "+1\\u00005\\udc80", "body": "c", "sent_at": "\\u0000"}',
    ):
        r = await post(service, url, body, JSON)
        assert r.status_code == 200 and r.json()["stored"] is True, r.text
    listed = sorted((m["from"], m["body"]) for m in await sms(service))
    mangled = "+1\ufffd5\ufffd"
    assert listed == [("+1555", "a?b"), ("+1555", "a\ufffdb"), (mangled, "c")]
    detail = await service.http.get(f"/projects/acme/phone/messages/{r.json()['id']}")
    assert detail.json()["params"] == [["from", mangled], ["body", "c"], ["sent_at", "\ufffd"]]
