"""POST/GET/PATCH /projects: slugs, domains, conflicts; GET /healthz."""

from __future__ import annotations

import json

from tests.conftest import Service
from tests.service import JSON
from tests.service import assert_error
from tests.service import create_project
from tests.service import new_token


async def test_healthz(service: Service) -> None:
    r = await service.http.get("/healthz")
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "ok"


async def test_create_project(service: Service) -> None:
    r = await service.http.post("/projects", json={"id": "acme", "domain": "acme.test"})
    assert r.status_code == 201, r.text
    project = r.json()
    assert project["id"] == "acme"
    assert project["domain"] == "acme.test"
    assert project["email_active"] is False
    assert project["primary_address"] is None
    r = await service.http.get("/projects/acme")
    assert r.status_code == 200, r.text
    assert r.json() == project


async def test_create_project_without_domain(service: Service) -> None:
    project = await create_project(service, "solo")
    assert project["domain"] is None


async def test_domain_is_normalized(service: Service) -> None:
    project = await create_project(service, "acme", "ACME.Test.")
    assert project["domain"] == "acme.test"
    project = await create_project(service, "books", "bücher.test")
    assert project["domain"] == "xn--bcher-kva.test"


BAD_IDS = [
    "Acme",
    "ACME",
    "ac me",
    " acme",
    "acme\n",
    "a" * 64,
    "ácme",
    "акме",
    "acme_1",
    "-acme",
    "acme-",
    "",
    "acme/../x",
    "acme.test",
]


async def test_bad_project_ids(service: Service) -> None:
    for project_id in BAD_IDS:
        r = await service.http.post("/projects", json={"id": project_id})
        assert_error(r, 422, "validation_failed")
    r = await service.http.get("/projects")
    assert r.json()["projects"] == []


async def test_longest_project_id(service: Service) -> None:
    await create_project(service, "a" * 63)


async def test_duplicate_project(service: Service) -> None:
    await create_project(service, "acme", "acme.test")
    r = await service.http.post("/projects", json={"id": "acme"})
    assert_error(r, 409, "conflict")


async def test_domain_hosted_by_another_project(service: Service) -> None:
    await create_project(service, "acme", "acme.test")
    r = await service.http.post("/projects", json={"id": "other", "domain": "Acme.Test"})
    assert_error(r, 409, "conflict")
    r = await service.http.get("/projects/other")
    assert_error(r, 404, "not_found")


BAD_DOMAINS = [
    "localhost",
    "acme",
    "acme..test",
    "-acme.test",
    "acme-.test",
    "ac me.test",
    "acme.test/x",
    "acme@test.org",
    "a" * 64 + ".test",
    ("a" * 60 + ".") * 5 + "test",
    ".",
    "*.acme.test",
    "acme_test.org",
    "\ud800.test",
]


async def test_bad_domains(service: Service) -> None:
    for domain in BAD_DOMAINS:
        # json.dumps escapes lone surrogates (httpx's json= would refuse to encode them)
        body = json.dumps({"id": "acme", "domain": domain})
        r = await service.http.post("/projects", content=body, headers=JSON)
        assert_error(r, 422, "validation_failed")
    assert (await service.http.get("/projects")).json()["projects"] == []


async def test_list_projects(service: Service) -> None:
    await create_project(service, "acme", "acme.test")
    await create_project(service, "beta", "beta.test")
    r = await service.http.get("/projects")
    assert [p["id"] for p in r.json()["projects"]] == ["acme", "beta"]
    token = await new_token(service, "beta")
    async with service.client(token) as beta:
        r = await beta.get("/projects")
    assert [p["id"] for p in r.json()["projects"]] == ["beta"]


async def test_patch_project(service: Service) -> None:
    await create_project(service, "acme", "acme.test")
    r = await service.http.patch("/projects/acme", json={"retention_days": 7, "catch_all": False})
    assert r.status_code == 200, r.text
    assert r.json()["retention_days"] == 7
    assert r.json()["catch_all"] is False
    r = await service.http.patch("/projects/acme", json={})
    assert r.json()["retention_days"] == 7
    for bad in ({"retention_days": 0}, {"retention_days": 3651}, {"domain": "x.test"}):
        assert_error(await service.http.patch("/projects/acme", json=bad), 422)
    assert_error(await service.http.patch("/projects/nope", json={}), 404, "not_found")


async def test_unknown_route_and_method(service: Service) -> None:
    assert_error(await service.http.get("/nothing/here"), 404, "not_found")
    assert_error(await service.http.put("/projects", json={}), 405, "method_not_allowed")
