"""Listing and revoking project tokens: admin only, never a secret, revoked means 401 at once."""

from __future__ import annotations

import asyncio

from tests.conftest import Service
from tests.service import assert_error
from tests.service import create_project
from tests.service import hosted
from tests.service import new_token


async def test_tokens_are_listed_newest_first_without_secrets(service: Service) -> None:
    await create_project(service, "acme", "acme.test")
    secrets = [await new_token(service, "acme", ["read"]) for _ in range(5)]
    r = await service.http.get("/projects/acme/tokens")
    assert r.status_code == 200, r.text
    listed = r.json()["tokens"]
    assert len(listed) == 5 and r.json()["next"] is None
    ids = [t["id"] for t in listed]
    assert ids == sorted(ids, reverse=True)
    assert all(t["scopes"] == ["read"] and t["project_id"] == "acme" for t in listed)
    assert not any(secret in r.text or secret.rsplit("_", 1)[-1] in r.text for secret in secrets)
    assert all(set(t) == {"id", "project_id", "scopes", "name", "created_at"} for t in listed)

    pages, before = [], None
    while True:
        params = {"limit": 2} | ({"before": before} if before else {})
        page = (await service.http.get("/projects/acme/tokens", params=params)).json()
        pages.append([t["id"] for t in page["tokens"]])
        before = page["next"]
        if before is None:
            break
    assert [len(p) for p in pages] == [2, 2, 1]
    assert [i for page in pages for i in page] == ids


async def test_a_revoked_token_is_refused_at_once(service: Service) -> None:
    await hosted(service, "acme", "acme.test")
    token = await new_token(service, "acme")
    keep = await new_token(service, "acme")
    async with service.client(token) as client:
        assert (await client.get("/projects/acme/email/inbox")).status_code == 200
        listed = (await service.http.get("/projects/acme/tokens")).json()["tokens"]
        victim = listed[1]["id"]  # the older one: ``token``
        r = await service.http.delete(f"/projects/acme/tokens/{victim}")
        assert r.status_code == 204, r.text
        assert_error(await client.get("/projects/acme/email/inbox"), 401, "unauthorized")
    async with service.client(keep) as client:
        assert (await client.get("/projects/acme/email/inbox")).status_code == 200
    remaining = (await service.http.get("/projects/acme/tokens")).json()["tokens"]
    assert [t["id"] for t in remaining] == [listed[0]["id"]]
    assert_error(await service.http.delete(f"/projects/acme/tokens/{victim}"), 404, "not_found")


async def test_one_token_revoked_by_requests_at_once_is_revoked_once(service: Service) -> None:
    """Each request loaded the token, then deleted it: all three answered 204 and the audit
    log said it was revoked three times. One statement deletes it now; the others find none."""
    await create_project(service, "acme")
    await new_token(service, "acme")
    (listed,) = (await service.http.get("/projects/acme/tokens")).json()["tokens"]
    path = f"/projects/acme/tokens/{listed['id']}"
    answers = await asyncio.gather(*(service.http.delete(path) for _ in range(3)))
    assert sorted(r.status_code for r in answers) == [204, 404, 404], [r.text for r in answers]
    assert (await service.http.get("/projects/acme/tokens")).json()["tokens"] == []


async def test_tokens_belong_to_their_project(service: Service) -> None:
    await create_project(service, "acme")
    await create_project(service, "beta")
    await new_token(service, "beta")
    beta_id = (await service.http.get("/projects/beta/tokens")).json()["tokens"][0]["id"]
    # beta's token cannot be revoked through acme, and acme lists none of beta's
    assert_error(await service.http.delete(f"/projects/acme/tokens/{beta_id}"), 404)
    assert (await service.http.get("/projects/acme/tokens")).json()["tokens"] == []
    assert len((await service.http.get("/projects/beta/tokens")).json()["tokens"]) == 1
    assert_error(await service.http.get("/projects/ghost/tokens"), 404, "not_found")


async def test_project_tokens_cannot_list_or_revoke(service: Service) -> None:
    await create_project(service, "acme")
    token = await new_token(service, "acme")
    token_id = (await service.http.get("/projects/acme/tokens")).json()["tokens"][0]["id"]
    async with service.client(token) as acme:
        assert_error(await acme.get("/projects/acme/tokens"), 403, "forbidden")
        assert_error(await acme.delete(f"/projects/acme/tokens/{token_id}"), 403, "forbidden")
        assert (await acme.get("/projects/acme")).status_code == 200  # still valid


async def test_hostile_token_ids_and_cursors(service: Service) -> None:
    await create_project(service, "acme")
    for bad in ("x", "0" * 5000, "%00", "..%2F..%2Fetc", "' OR 1=1 --"):
        r = await service.http.delete(f"/projects/acme/tokens/{bad}")
        assert r.status_code in (404, 414), r.text
        assert "5000" not in r.text
    for bad in ("x", "0" * 27, "' OR 1=1 --"):
        r = await service.http.get("/projects/acme/tokens", params={"before": bad})
        assert_error(r, 422)
    for limit in (0, -1, 501, "many"):
        r = await service.http.get("/projects/acme/tokens", params={"limit": limit})
        assert_error(r, 422)
