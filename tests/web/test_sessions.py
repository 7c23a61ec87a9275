"""Signing in and out of the web page: the cookie, the server-side session, CSRF, and what
a signed-out or revoked browser can read (nothing)."""

from __future__ import annotations

import asyncio
import hashlib
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from pathlib import Path

import httpx
from sqlalchemy import select
from sqlalchemy import update

from agentid.store.tables import UiSession
from tests.conftest import ADMIN
from tests.conftest import Service
from tests.conftest import serving
from tests.service import create_project
from tests.service import new_project
from tests.service import new_token
from tests.web.pages import browser
from tests.web.pages import csrf_of
from tests.web.pages import post_form
from tests.web.pages import sign_in
from tests.web.pages import signed_in


def session_cookie(r: httpx.Response) -> str:
    found = [h for h in r.headers.get_list("set-cookie") if h.startswith("agentid_session=")]
    assert len(found) == 1, r.headers
    return found[0]


async def sessions(service: Service) -> list[UiSession]:
    async with service.running.runtime.sessions() as session:
        return list((await session.scalars(select(UiSession))).all())


async def test_sign_in_sets_a_strict_http_only_cookie_naming_a_session_not_the_token(
    service: Service,
) -> None:
    project = await new_project(service)
    token = await new_token(service, project.id)
    async with browser(service) as client:
        r = await sign_in(client, token)
        assert r.status_code == 303 and r.headers["location"] == f"/ui/projects/{project.id}"
        cookie = session_cookie(r)
        attributes = {part.strip().split("=")[0].lower() for part in cookie.split(";")}
        assert {"httponly", "path", "samesite"} <= attributes and "secure" not in attributes
        assert "strict-transport-security" not in r.headers  # plain http, no https URL
        assert "samesite=strict" in cookie.lower() and "path=/ui" in cookie.lower()
        value = cookie.split(";")[0].split("=", 1)[1]
        assert token not in cookie and value not in token
        [row] = await sessions(service)
        assert row.id_hash == hashlib.sha256(value.encode()).hexdigest()
        assert row.admin_hash is None and row.token_id is not None
        stored = " ".join(str(getattr(row, c)) for c in ("id_hash", "token_id", "csrf"))
        assert value not in stored and token not in stored

        # the API never takes the cookie: bearer tokens only
        api = await client.get(f"/projects/{project.id}/email/inbox")
        assert api.status_code == 401


async def test_the_cookie_is_secure_when_the_request_came_over_https(service: Service) -> None:
    async with browser(service) as client:
        client.headers["X-Forwarded-Proto"] = "https"  # a proxy on loopback, trusted by uvicorn
        form = await client.get("/ui/login")
        assert "; secure" in form.headers["set-cookie"].lower()
        csrf = csrf_of(form.text)  # httpx sends no Secure cookie over http: by hand, then
        r = await client.post(
            "/ui/login",
            data={"csrf": csrf, "token": ADMIN},
            headers={"Cookie": f"agentid_signin={csrf}"},
        )
        assert r.status_code == 303, r.text
        assert "; secure" in session_cookie(r).lower()


async def test_the_cookie_is_secure_and_https_required_when_the_public_url_is_https(
    backend: str, tmp_path: Path
) -> None:
    """A TLS proxy on another host (its X-Forwarded-Proto not trusted): the request arrives
    as http, yet the browser is on https, so the cookie keeps Secure and HSTS is sent."""
    public = {"public_url": "https://agentid.example"}
    async with (
        serving(tmp_path / "data", backend, **public) as (service, _),
        browser(service) as client,
    ):
        form = await client.get("/ui/login")
        assert "; secure" in form.headers["set-cookie"].lower()
        assert form.headers["strict-transport-security"] == "max-age=31536000"


async def test_sign_out_ends_the_session_on_the_server(service: Service) -> None:
    project = await new_project(service)
    async with signed_in(service, await new_token(service, project.id)) as client:
        stolen = dict(client.cookies)
        page = f"/ui/projects/{project.id}/inbox"
        r = await post_form(client, page, "/ui/logout", {})
        assert r.status_code == 303 and r.headers["location"] == "/ui/login"
        assert await sessions(service) == []
    async with browser(service) as replayed:  # the old cookie, kept by someone
        replayed.cookies.update(stolen)
        r = await replayed.get(page)
        assert r.status_code == 303 and r.headers["location"] == "/ui/login"
        r = await replayed.get(f"/ui/projects/{project.id}/events")
        assert r.status_code == 401
        r = await replayed.get(f"/ui/projects/{project.id}/inbox?part=rows")
        assert r.status_code == 303
        r = await replayed.post(
            f"/ui/projects/{project.id}/aliases", data={"csrf": "x", "label": "a"}
        )
        assert r.status_code == 401


async def test_a_revoked_token_ends_its_sessions(service: Service) -> None:
    project = await new_project(service)
    r = await service.http.post(f"/projects/{project.id}/tokens", json={})
    made = r.json()
    async with signed_in(service, made["token"]) as client:
        assert (await client.get(f"/ui/projects/{project.id}")).status_code == 200
        r = await service.http.delete(f"/projects/{project.id}/tokens/{made['id']}")
        assert r.status_code == 204
        r = await client.get(f"/ui/projects/{project.id}")
        assert r.status_code == 303 and r.headers["location"] == "/ui/login"
    assert await sessions(service) == []


async def test_scopes_are_read_again_at_each_request(service: Service) -> None:
    """A read-only token's session cannot create an alias, exactly as the API says."""
    project = await new_project(service)
    async with signed_in(service, await new_token(service, project.id, ["read"])) as client:
        page = f"/ui/projects/{project.id}/aliases"
        r = await post_form(client, page, page, {"label": "signup"})
        assert r.status_code == 403


async def test_a_wrong_token_is_refused_and_repeated_failures_are_bounded(
    service: Service,
) -> None:
    async with browser(service) as client:
        for _ in range(10):
            r = await sign_in(client, "aid_nobody_" + "x" * 43)
            assert r.status_code == 401 and "not valid" in r.text
            assert "agentid_session" not in r.headers.get("set-cookie", "")
        r = await sign_in(client, ADMIN)  # even the right one waits now
        assert r.status_code == 429 and "try again" in r.text
        assert int(r.headers["retry-after"]) >= 1


async def test_a_right_token_does_not_clear_the_failures_before_it(service: Service) -> None:
    """A guesser holding some valid token (any agent's) cannot sign in with it between
    guesses to start counting afresh: a right token forgives its own attempt only."""
    project = await new_project(service)
    mine = await new_token(service, project.id, ["read"])
    async with browser(service) as client:
        for _ in range(9):
            assert (await sign_in(client, "aid_nobody_" + "x" * 43)).status_code == 401
        assert (await sign_in(client, mine)).status_code == 303
        client.cookies.clear()  # signed out again, on the same address
        assert (await sign_in(client, "aid_nobody_" + "y" * 43)).status_code == 401
        assert (await sign_in(client, mine)).status_code == 429  # ten failures this minute


async def test_sign_ins_sent_at_once_cannot_pass_the_limit_together(service: Service) -> None:
    """Each attempt is counted before its token is looked up, so 30 posts racing each
    other get at most ten answers; the others are refused at once."""
    async with browser(service) as client:
        form = await client.get("/ui/login")
        data = {"csrf": csrf_of(form.text), "token": "aid_nobody_" + "z" * 43}
        answers = await asyncio.gather(*(client.post("/ui/login", data=data) for _ in range(30)))
    codes = sorted(r.status_code for r in answers)
    assert codes == [401] * 10 + [429] * 20


async def test_form_posts_without_the_csrf_token_are_refused(service: Service) -> None:
    project = await new_project(service)
    async with signed_in(service, ADMIN) as client:
        action = f"/ui/projects/{project.id}/aliases"
        for data in ({"label": "a"}, {"label": "a", "csrf": ""}, {"label": "a", "csrf": "wrong"}):
            r = await client.post(action, data=data)
            assert r.status_code == 403, r.text
        r = await client.post(action, json={"label": "a"})  # not a form at all
        assert r.status_code == 403
        r = await client.post("/ui/logout", data={})
        assert r.status_code == 403
        assert len(await sessions(service)) == 1  # still signed in
    aliases = await service.http.get(f"/projects/{project.id}/email/aliases")
    assert [a["label"] for a in aliases.json()["aliases"]] == []


async def test_the_sign_in_form_checks_its_own_token(service: Service) -> None:
    async with browser(service) as client:
        r = await client.post("/ui/login", data={"token": ADMIN})
        assert r.status_code == 403
        form = await client.get("/ui/login")
        client.cookies.clear()  # the form's token without its cookie
        r = await client.post("/ui/login", data={"csrf": csrf_of(form.text), "token": ADMIN})
        assert r.status_code == 403
    assert await sessions(service) == []


async def test_a_project_token_sees_its_own_project_only(service: Service) -> None:
    mine = await new_project(service)
    await create_project(service, "other")
    async with signed_in(service, await new_token(service, mine.id)) as client:
        listed = await client.get("/ui/projects")
        assert mine.id in listed.text and "other" not in listed.text
        for path in ("", "/inbox", "/codes", "/aliases", "/sms", "/outbox", "/escalations",
                     "/events", "/messages/01J00000000000000000000000"):  # fmt: skip
            r = await client.get(f"/ui/projects/other{path}")
            assert r.status_code == 404, (path, r.status_code)
            ghost = await client.get(f"/ui/projects/ghost{path}")  # no such project
            assert r.text.replace("other", "ghost") == ghost.text
        for path in ("/ui/escalations", "/ui/events", f"/ui/projects/{mine.id}/webhooks"):
            assert (await client.get(path)).status_code == 403, path
        r = await post_form(
            client, f"/ui/projects/{mine.id}/escalations",
            f"/ui/projects/{mine.id}/escalations/01J00000000000000000000000/answer",
            {"value": "123456"},
        )  # fmt: skip
        assert r.status_code == 403  # an agent's token never answers an escalation


async def test_every_page_carries_the_security_headers(service: Service) -> None:
    async with signed_in(service, ADMIN) as client:
        for path in ("/ui/login", "/ui/projects", "/ui/nowhere"):
            r = await client.get(path)
            policy = r.headers["content-security-policy"]
            assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy
            assert "'unsafe-inline'" not in policy
            assert r.headers["x-frame-options"] == "DENY"
            assert r.headers["referrer-policy"] == "no-referrer"
            assert r.headers["x-content-type-options"] == "nosniff"
        assert (await client.get("/ui/nowhere")).status_code == 404
    async with browser(service) as anonymous:
        r = await anonymous.get("/ui/projects")
        assert r.status_code == 303 and "content-security-policy" in r.headers


async def test_a_session_ends_when_it_expires_or_the_admin_token_changes(
    service: Service,
) -> None:
    project = await new_project(service)
    page = f"/ui/projects/{project.id}"
    async with signed_in(service, await new_token(service, project.id)) as client:
        async with service.running.runtime.sessions() as session:
            await session.execute(
                update(UiSession).values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
            )
            await session.commit()
        r = await client.get(page)
        assert r.status_code == 303 and r.headers["location"] == "/ui/login"
    assert await sessions(service) == []
    runtime = service.running.runtime
    async with signed_in(service, ADMIN) as client:
        assert (await client.get(page)).status_code == 200
        runtime.admin_token = "another-admin-token-" + "y" * 20  # as after a restart with it
        try:
            r = await client.get(page)
        finally:
            runtime.admin_token = ADMIN
        assert r.status_code == 303 and r.headers["location"] == "/ui/login"
