"""The project dependency: visibility, existence and scope in one query; a project token on
another project's resources is answered exactly as a missing project is, on every route."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from sqlalchemy import event

from agentid.api.project import Need
from agentid.api.project import project_for
from agentid.auth import ADMIN
from agentid.auth import Principal
from agentid.errors import AgentIDError
from agentid.errors import Forbidden
from agentid.errors import NotFound
from agentid.store.db import AsyncSession
from agentid.store.db import create_engine
from agentid.store.db import session_factory
from tests.conftest import Service
from tests.service import app_routes
from tests.service import assert_error
from tests.service import deliver
from tests.service import hosted
from tests.service import new_alias
from tests.service import new_token

ACME_READER = Principal("acme", frozenset({"read"}))
ACME_ALL = Principal("acme", frozenset({"read", "write", "send"}))


@asynccontextmanager
async def counted(service: Service) -> AsyncIterator[tuple[AsyncSession, list[str]]]:
    """A session on an engine of its own, and the statements it runs."""
    engine = create_engine(service.running.settings)
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(args[2])

    event.listen(engine.sync_engine, "before_cursor_execute", count)
    try:
        async with session_factory(engine)() as session:
            yield session, statements
    finally:
        await engine.dispose()


CASES: list[tuple[Need, Principal, str, type[AgentIDError] | None, int]] = [
    # need, who, project, error, statements
    ("any", ADMIN, "acme", None, 1),
    ("admin", ADMIN, "acme", None, 1),
    ("read", ADMIN, "ghost", NotFound, 1),
    ("read", ACME_READER, "acme", None, 1),
    ("any", ACME_READER, "beta", NotFound, 1),
    ("read", ACME_READER, "beta", NotFound, 1),
    ("write", ACME_READER, "beta", NotFound, 1),  # absent before short of a scope
    ("write", ACME_READER, "acme", Forbidden, 1),
    ("write", ACME_ALL, "acme", None, 1),
    ("admin", ACME_ALL, "acme", Forbidden, 0),  # refused before anything is looked up
    ("admin", ACME_ALL, "beta", Forbidden, 0),
    ("read", ADMIN, "acme\x00", NotFound, 0),  # an id that cannot name a project
    ("read", ACME_READER, "a" * 5000, NotFound, 0),
]


async def test_the_project_dependency_runs_one_query(service: Service) -> None:
    await hosted(service, "acme", "acme.test")
    await hosted(service, "beta", "beta.test")
    for need, who, project_id, error, expected in CASES:
        dependency = project_for(need)
        async with counted(service) as (session, statements):
            if error is None:
                project = await dependency(project_id, who, session)
                assert project.id == project_id
                assert not session.in_transaction()  # no connection held after it
            else:
                with pytest.raises(error):
                    await dependency(project_id, who, session)
        assert len(statements) == expected, (need, who, project_id, statements)


async def own_answer(client: httpx.AsyncClient, method: str, url: str) -> tuple[int, str]:
    """Status and body of a request on the token's own project (an event stream: its
    status only, it does not end)."""
    async with client.stream(method, url, timeout=5) as r:
        if r.headers.get("content-type", "").startswith("text/event-stream"):
            return r.status_code, ""
        await r.aread()
        return r.status_code, r.text


async def test_other_projects_are_absent_on_every_project_route(service: Service) -> None:
    """Whatever its scopes, acme's token gets on beta's routes what it gets on a project
    that does not exist: 404, or the 403 it gets on its own project (admin-only routes)."""
    await hosted(service, "acme", "acme.test")
    await hosted(service, "beta", "beta.test")
    alias = await new_alias(service, "beta", label="signup")
    mid = (await deliver(service, "beta", alias))["id"]
    values = {
        "mid": mid,
        "tid": mid,
        "address": alias,
        "n": 0,
        "token_id": "0" * 26,
        "kind": "relay",
        "sms_id": mid,
        "forwarder_id": mid,
        "label": "github",
        "escalation_id": mid,
        "webhook_id": mid,
        "delivery_id": mid,
    }
    routes = [
        (method, path)
        for method, path, _ in app_routes(service.running.settings)
        if path.startswith("/projects/{project_id}")
    ]
    assert len(routes) >= 15, routes
    for scopes in (["read"], ["read", "write", "send"]):
        token = await new_token(service, "acme", scopes)
        async with service.client(token) as acme:
            for method, path in routes:
                answers = {}
                for project_id in ("beta", "ghost"):
                    r = await acme.request(method, path.format(project_id=project_id, **values))
                    assert_error(r, r.status_code)
                    answers[project_id] = (r.status_code, r.text.replace(project_id, "<p>"))
                assert answers["beta"] == answers["ghost"], (method, path, answers)
                own = await own_answer(acme, method, path.format(project_id="acme", **values))
                admin_only = own[0] == 403 and "operator" in own[1]
                expected = 403 if admin_only else 404
                assert answers["beta"][0] == expected, (scopes, method, path, answers, own)

    # Nothing of beta's was changed, and the admin still sees it all.
    r = await service.http.get(f"/projects/beta/email/messages/{mid}")
    assert r.status_code == 200, r.text
    assert r.json()["unread"] is True
    r = await service.http.get("/projects/beta/email/aliases")
    assert [a["enabled"] for a in r.json()["aliases"]] == [True]
    r = await service.http.get("/projects/beta")
    assert r.json()["catch_all"] is True
