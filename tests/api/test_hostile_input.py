"""Malformed, oversized and hostile input: always a clean JSON error, never a 500."""

from __future__ import annotations

import json
from typing import Any

from tests.conftest import Service
from tests.service import JSON
from tests.service import assert_error
from tests.service import deliver
from tests.service import hosted
from tests.service import new_alias

HUGE = "x" * 1_000_000


async def body_routes(service: Service) -> list[tuple[str, str]]:
    """Every route that takes a JSON body, on a project with an alias and a message."""
    await hosted(service, "acme", "acme.test")
    await new_alias(service, "acme", local_part="billing")
    mid = (await deliver(service, "acme", "agent@acme.test"))["id"]
    return [
        ("POST", "/projects"),
        ("PATCH", "/projects/acme"),
        ("POST", "/projects/acme/tokens"),
        ("POST", "/projects/acme/email/provision"),
        ("POST", "/projects/acme/email/aliases"),
        ("PATCH", f"/projects/acme/email/messages/{mid}"),
        ("POST", "/projects/acme/totp"),
        ("POST", "/projects/acme/escalations"),
    ]


RAW_BODIES = [
    b"{",
    b"{'id': 'acme'}",
    b'{"id": "acme",}',
    b"\xff\xfe\x00garbage",
    b"[" * 50_000 + b"]" * 50_000,
    b'{"a":' * 50_000 + b"1" + b"}" * 50_000,
    b"NaN",
    b'"just a string"',
    b"12345678901234567890123456789012345678901234567890",
    b"[]",
    b'{"\\ud800": 1}',
    b'{"id": "\\ud800", "domain": "\\udfff.test", "name": "\\ud800"}',
    b'{"scopes": ["\\ud800"]}',
    b'{"label": "\\u0000"}',
]


async def test_malformed_bodies(service: Service) -> None:
    for method, path in await body_routes(service):
        for raw in RAW_BODIES:
            r = await service.http.request(method, path, content=raw, headers=JSON)
            # 422 for JSON that is invalid or the wrong shape; 400 when the parser gives up
            # (nesting deeper than it will go).
            assert r.status_code in (400, 422), (method, path, raw[:40], r.text[:200])
            codes = {400: "bad_request", 422: "validation_failed"}
            assert_error(r, r.status_code, codes[r.status_code])


async def test_hostile_json_values(service: Service) -> None:
    routes = await body_routes(service)
    bodies: list[Any] = [
        {"id": HUGE},
        {"id": "new", "domain": HUGE},
        {"id": "new", "domain": "a." * 200 + "test"},
        {"id": "new", "retention_days": 10**30},
        {"id": "new", "retention_days": -1},
        {"id": "new", "retention_days": 1.5},
        {"id": "new", "catch_all": "sometimes"},
        {"id": ["acme"]},
        {"id": {"$ne": None}},
        {"id": None},
        {"id": "new", "unexpected": True},
        {"retention_days": "' OR 1=1 --"},
        {"scopes": ["read"] * 11},
        {"scopes": [HUGE]},
        {"scopes": "read"},
        {"name": HUGE},
        {"address": HUGE},
        {"address": "../../etc/passwd"},
        {"address": "a\r\nBcc: x@evil.example"},
        {"label": HUGE},
        {"label": "../x"},
        {"local_part": HUGE},
        {"local_part": "a\r\nb"},
        {"local_part": "'; DROP TABLE aliases; --"},
        {"expires_at": "9999-12-31T23:59:59-14:00"},
        {"expires_at": "0001-01-01T00:00:00+14:00"},
        {"expires_at": 10**20},
        {"unread": "maybe"},
        {"unread": None},
        {"extra": 1},
    ]
    for method, path in routes:
        for body in bodies:
            r = await service.http.request(method, path, json=body)
            assert r.status_code < 500, (method, path, body if len(str(body)) < 200 else "huge")
            assert r.headers["content-type"].startswith("application/json"), r.text[:200]
            if r.status_code >= 400:
                assert_error(r, r.status_code)
    # None of it changed anything it should not have.
    projects = (await service.http.get("/projects")).json()["projects"]
    assert [p["id"] for p in projects] == ["acme"]
    r = await service.http.get("/projects/acme/email/aliases")
    assert [a["address"] for a in r.json()["aliases"]] == ["billing@acme.test"]


async def test_out_of_range_datetimes(service: Service) -> None:
    await hosted(service, "acme", "acme.test")
    for stamp in ("9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00"):
        r = await service.http.post(
            "/projects/acme/email/aliases", json={"label": "x", "expires_at": stamp}
        )
        assert_error(r, 422, "validation_failed")
        for path in ("/projects/acme/email/inbox", "/projects/acme/codes"):
            r = await service.http.get(path, params={"since": stamp})
            assert_error(r, 422, "validation_failed")


async def test_lone_surrogates(service: Service) -> None:
    await hosted(service, "acme", "acme.test")
    for path, body in (
        ("/projects", {"id": "new", "\ud800": 1}),
        ("/projects/acme/tokens", {"scopes": ["read"], "name": "bad \ud800 name"}),
        ("/projects/acme/tokens", {"scopes": ["read\udfff"]}),
        ("/projects/acme/tokens", {"scopes": ["read"], "name": "nul \u0000 name"}),
        ("/projects/acme/tokens", {"scopes": ["read"], "name": "line\r\nbreak"}),
        ("/projects/acme/email/aliases", {"local_part": "a\ud800"}),
        ("/projects/acme/email/provision", {"address": "\ud800"}),
    ):
        r = await service.http.post(path, content=json.dumps(body), headers=JSON)
        assert_error(r, 422)
        assert "\ud800" not in r.json()["error"]["message"]


async def test_hostile_query_strings(service: Service) -> None:
    await hosted(service, "acme", "acme.test")
    await deliver(service, "acme", "agent@acme.test")
    hostile = [
        "' OR '1'='1",
        "'; DROP TABLE messages; --",
        "%",
        "_",
        "\\",
        "/",
        "%00",
        "\x00",
        "ü" * 100,
        "\r\nX-Injected: 1",
    ]
    for path in ("/projects/acme/email/inbox", "/projects/acme/codes"):
        for value in hostile:
            for name in ("subject", "from", "to"):
                if name == "subject" and path.endswith("codes"):
                    continue
                r = await service.http.get(path, params={name: value})
                assert r.status_code in (200, 422), (path, name, value, r.text)
                if r.status_code == 200:
                    key = "messages" if "inbox" in path else "codes"
                    assert r.json()[key] == [], (path, name, value)
                else:
                    assert_error(r, 422)
        r = await service.http.get(path, params={"from": "x" * 10_000})
        assert_error(r, 422)
    # Still all there.
    assert len((await service.http.get("/projects/acme/email/inbox")).json()["messages"]) == 1


async def test_hostile_paths(service: Service) -> None:
    await hosted(service, "acme", "acme.test")
    for path in (
        "/projects/..%2F..%2Fetc%2Fpasswd",
        "/projects/%2e%2e",
        "/projects/acme%00",
        "/projects/" + "a" * 5000,
        "/projects/acme/email/aliases/..%2F..%2Fx@acme.test",
        "/projects/' OR 1=1 --/email/inbox",
        "/projects/acme/email/messages/%00/raw",
    ):
        r = await service.http.get(path)
        assert_error(r, r.status_code)
        assert r.status_code in (404, 405, 422), (path, r.status_code)
    for method, path in (
        ("PATCH", "/projects/acme%00"),
        ("POST", "/projects/acme%00/tokens"),
        ("POST", "/projects/acme%00/email/provision"),
        ("POST", "/projects/acme%00/email/aliases"),
        ("GET", "/projects/acme%00/codes"),
        ("GET", "/projects/acme%00/events"),
        ("DELETE", "/projects/acme/email/aliases/a%00@acme.test"),
        ("DELETE", "/projects/acme/email/aliases/" + "a" * 5000 + "@acme.test"),
    ):
        r = await service.http.request(method, path, json={}, timeout=5)
        assert_error(r, 404, "not_found")


async def test_body_that_is_not_json(service: Service) -> None:
    r = await service.http.post(
        "/projects",
        content=b"id=acme",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert_error(r, 422)
    r = await service.http.post(
        "/projects", content=b'{"id": "acme"}', headers={"Content-Type": "text/plain"}
    )
    assert r.status_code in (201, 415, 422), r.text
    if r.status_code != 201:
        assert_error(r, r.status_code)
