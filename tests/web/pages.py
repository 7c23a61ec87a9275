"""Talking to the web page as a browser without scripts would: sign in with a token, keep
the session cookie, read the CSRF token out of a page, post forms; and reading a page's
tables as a person would (each row's labelled cells, as text)."""

from __future__ import annotations

import html
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


ROW = re.compile(r"<tr\b[^>]*>(.*?)</tr>", re.S)
CELL = re.compile(r'<td data-label="([^"]*)"[^>]*>(.*?)</td>', re.S)
TAG = re.compile(r"<[^>]+>")


def text_of(markup: str) -> str:
    """What a reader sees of ``markup``: its text, spaces collapsed."""
    return " ".join(html.unescape(TAG.sub(" ", markup)).split())


def rows(page: str) -> list[dict[str, str]]:
    """The labelled cells of every table row of ``page`` (label: text), in order."""
    found = []
    for row in ROW.findall(page):
        cells = {label: text_of(markup) for label, markup in CELL.findall(row)}
        if cells:
            found.append(cells)
    return found


def row_with(page: str, label: str, text: str) -> dict[str, str]:
    """The one row whose ``label`` cell holds ``text``."""
    matching = [r for r in rows(page) if text in r.get(label, "")]
    assert len(matching) == 1, (label, text, rows(page))
    return matching[0]
