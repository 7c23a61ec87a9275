"""Hostile input on every form and query of the web page: a clean answer (a page saying
what is wrong, or the ordinary result), never a 500, never markup of the sender's own."""

from __future__ import annotations

from urllib.parse import quote

import httpx

from tests.conftest import ADMIN
from tests.conftest import Service
from tests.service import new_project
from tests.web.pages import csrf_of
from tests.web.pages import signed_in

HOSTILE = [
    "\x00", "a" * 5000, "<script>alert(1)</script>", "\u202eevil\u202c", "../../etc/passwd",
    "%00", "x\r\nSet-Cookie: stolen=1", "\ud800".encode("utf-8", "surrogatepass").decode(
        "utf-8", "replace"), "' OR 1=1 --", "{{ 7 * 7 }}",
]  # fmt: skip
FINE = {200, 303, 400, 403, 404, 409, 413, 422}


def clean(r: httpx.Response) -> None:
    assert r.status_code in FINE, (r.status_code, r.text[:500])
    assert "<script>alert(1)</script>" not in r.text
    assert "stolen" not in r.headers.get("set-cookie", "")


async def test_every_form_takes_hostile_input_cleanly(service: Service) -> None:
    project = await new_project(service)
    base = f"/ui/projects/{project.id}"
    async with signed_in(service, ADMIN) as client:
        csrf = csrf_of((await client.get(f"{base}/aliases")).text)
        for value in HOSTILE:
            part = quote(value[:30], safe="")
            forms = [
                (f"{base}/aliases", {"label": value}),
                (f"{base}/aliases/disable", {"address": value}),
                (f"{base}/escalations/01J00000000000000000000000/answer", {"value": value}),
                (f"{base}/escalations/{part}/answer", {"value": "1", "back": value}),
                (f"{base}/outbox/{part}/retry", {}),
                (f"{base}/webhooks/{part}/deliveries/{part}/replay", {}),
            ]
            for action, fields in forms:
                clean(await client.post(action, data={"csrf": csrf, **fields}))
        for value in HOSTILE:
            part = quote(value[:40], safe="")
            queries = [
                (f"{base}/inbox", {"to": value}),
                (f"{base}/inbox", {"from": value, "subject": value, "unread": value[:5]}),
                (f"{base}/inbox", {"before": value[:26], "part": value[:8]}),
                (f"{base}/codes", {"channel": value, "unused": value[:5]}),
                (f"{base}/codes", {"before": value[:26]}),
                (f"{base}/aliases", {"before": value, "made": value[:320]}),
                (f"{base}/sms", {"before": value[:26]}),
                (f"{base}/outbox", {"before": value[:26]}),
                (f"{base}/messages/{part}", {"remote": value[:5]}),
                (f"{base}/messages/{part}/html", {}),
                (f"{base}/messages/{part}/attachments/{part}", {}),
                ("/ui/projects", {"before": value}),
                ("/ui/escalations", {"before": value[:26]}),
            ]
            for path, params in queries:
                clean(await client.get(path, params=params))
        # still signed in, nothing was made
        assert (await client.get(f"{base}/aliases")).status_code == 200
    aliases = await service.http.get(f"/projects/{project.id}/email/aliases")
    assert aliases.json()["aliases"] == []


async def test_hostile_tokens_at_sign_in(service: Service) -> None:
    async with httpx.AsyncClient(base_url=service.running.url, timeout=30) as client:
        for value in [*HOSTILE, "Bearer " + ADMIN, ADMIN + "\x00", " " * 2000]:
            form = await client.get("/ui/login")
            r = await client.post("/ui/login", data={"csrf": csrf_of(form.text), "token": value})
            assert r.status_code in {401, 422, 429}, (value[:20], r.status_code)
            assert "<script>alert(1)</script>" not in r.text
            client.cookies.delete("agentid_session")
        r = await client.post(
            "/ui/login", content=b"x" * (70 * 1024),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )  # fmt: skip
        assert r.status_code == 413
