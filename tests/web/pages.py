"""Talking to the web page as a browser without scripts would: sign in with a token, keep
the session cookie, read the CSRF token out of a page, post forms."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx

from tests.conftest import Service

CSRF = re.compile(r'name="csrf" value="([^"]*)"')


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found, html[:2000]
    return found.group(1)


def browser(service: Service) -> httpx.AsyncClient:
    """A client with a cookie jar and no token, following no redirect by itself."""
    return httpx.AsyncClient(base_url=service.running.url, timeout=30)


async def sign_in(client: httpx.AsyncClient, token: str) -> httpx.Response:
    form = await client.get("/ui/login")
    assert form.status_code == 200, form.text
    return await client.post("/ui/login", data={"csrf": csrf_of(form.text), "token": token})


@asynccontextmanager
async def signed_in(service: Service, token: str) -> AsyncIterator[httpx.AsyncClient]:
    async with browser(service) as client:
        r = await sign_in(client, token)
        assert r.status_code == 303, r.text
        yield client


async def post_form(
    client: httpx.AsyncClient, page: str, action: str, fields: dict[str, str]
) -> httpx.Response:
    """Post ``fields`` to ``action`` with the CSRF token ``page`` carries."""
    shown = await client.get(page)
    assert shown.status_code == 200, shown.text
    return await client.post(action, data={"csrf": csrf_of(shown.text), **fields})
