"""Every list pages the same way: ``limit``, ``before=<next>``, and ``next`` (None at the end)."""

from __future__ import annotations

from typing import Any

from agentid.store.tables import Alias
from agentid.times import utcnow
from tests.conftest import Service
from tests.service import assert_error
from tests.service import create_project
from tests.service import hosted
from tests.service import new_alias
from tests.service import new_token


async def walk(service: Service, path: str, key: str, limit: int) -> list[list[Any]]:
    """The pages of a list, following ``next`` to the end."""
    pages: list[list[Any]] = []
    before = None
    while True:
        params: dict[str, Any] = {"limit": limit} | ({"before": before} if before else {})
        r = await service.http.get(path, params=params)
        assert r.status_code == 200, r.text
        body = r.json()
        assert set(body) == {key, "next"}, body
        assert len(body[key]) <= limit
        pages.append(body[key])
        before = body["next"]
        if before is None:
            return pages
        assert len(pages) < 50, "next never ends"


async def test_projects_page_by_id(service: Service) -> None:
    ids = [f"p{n}" for n in range(7)]
    for project_id in reversed(ids):
        await create_project(service, project_id)
    pages = await walk(service, "/projects", "projects", 3)
    assert [len(page) for page in pages] == [3, 3, 1]
    assert [p["id"] for page in pages for p in page] == ids  # each once, in order
    everything = (await service.http.get("/projects")).json()
    assert [p["id"] for p in everything["projects"]] == ids and everything["next"] is None
    # A page that ends exactly at the end says so.
    assert (await service.http.get("/projects", params={"limit": 7})).json()["next"] is None

    token = await new_token(service, ids[3])
    async with service.client(token) as own:
        r = await own.get("/projects", params={"limit": 1})
    assert [p["id"] for p in r.json()["projects"]] == [ids[3]] and r.json()["next"] is None


async def test_bad_project_cursors(service: Service) -> None:
    await create_project(service, "acme")
    for before in ("Acme", "a b", "-x", "x" * 64, "' OR 1=1 --", "\x00"):
        r = await service.http.get("/projects", params={"before": before})
        assert_error(r, 422, "validation_failed")
    for limit in (0, -1, 501, "x"):
        assert_error(await service.http.get("/projects", params={"limit": limit}), 422)
    # a cursor past every project: an empty page
    r = await service.http.get("/projects", params={"before": "zzz"})
    assert r.json() == {"projects": [], "next": None}


async def test_aliases_page_oldest_first(service: Service) -> None:
    await hosted(service, "acme", "acme.test")
    made = [await new_alias(service, "acme", label="signup") for _ in range(5)]
    # Aliases made in the same instant are ordered by address.
    at = utcnow()
    same = sorted(f"same{n}@acme.test" for n in range(4))
    async with service.running.runtime.sessions.begin() as session:
        for address in reversed(same):
            session.add(Alias(address=address, project_id="acme", enabled=True, created_at=at))
    r = await service.http.delete(f"/projects/acme/email/aliases/{made[1]}")
    assert r.status_code == 200, r.text

    pages = await walk(service, "/projects/acme/email/aliases", "aliases", 2)
    assert [len(page) for page in pages] == [2, 2, 2, 2, 1]
    listed = [a["address"] for page in pages for a in page]
    assert listed == [*made, *same]  # each once; the disabled one too
    assert [a["enabled"] for page in pages for a in page].count(False) == 1
    everything = (await service.http.get("/projects/acme/email/aliases")).json()
    assert [a["address"] for a in everything["aliases"]] == listed
    assert everything["next"] is None
    # The cursor is an address, however it is written.
    r = await service.http.get(
        "/projects/acme/email/aliases", params={"before": same[1].upper(), "limit": 1}
    )
    assert [a["address"] for a in r.json()["aliases"]] == [same[2]]


async def test_bad_alias_cursors(service: Service) -> None:
    await hosted(service, "acme", "acme.test")
    await hosted(service, "beta", "beta.test")
    theirs = await new_alias(service, "beta", label="x")
    await new_alias(service, "acme", label="x")
    for before in (theirs, "nobody@acme.test", "not an address", "\x00", "x" * 321):
        r = await service.http.get("/projects/acme/email/aliases", params={"before": before})
        assert_error(r, 422, "validation_failed")
    r = await service.http.get("/projects/acme/email/aliases", params={"limit": 0})
    assert_error(r, 422, "validation_failed")
