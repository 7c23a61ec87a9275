"""Typed clients of the agentid HTTP API (used by the CLI, usable from any Python code).

    with Client("http://127.0.0.1:8400", token) as client:
        client.create_project("acme", domain="acme.test")
        page = client.codes("acme", unused=True, consume=True, limit=1, wait=60)
        print(page.codes[0].value)

    async with AsyncClient("http://127.0.0.1:8400", token) as client:
        inbox = await client.inbox("acme", wait=60)

Both clients have the same methods and return the pydantic models of the features'
``schemas.py`` (``raw`` and ``attachment`` return bytes; deleting returns None). Each call is
written once, in its group (``projects``, ``mail``, ``phone``, ``webhooks``, ``codes``,
``second_factors``), as a ``Call``: method, path, query, body and how to read the answer,
without doing any I/O (``calls``); ``Client`` sends it over ``httpx.Client`` and
``AsyncClient`` over ``httpx.AsyncClient`` (``clients``). A non-2xx answer raises the
matching ``agentid.errors`` class; a server that cannot be reached raises ``Unreachable``;
an answer that is not the model it should be raises a 502 ``bad_response``. Tests hand in an
``httpx`` transport instead of a network.
"""

from __future__ import annotations

from agentid.client.calls import Call
from agentid.client.clients import DEFAULT_URL
from agentid.client.clients import AsyncClient
from agentid.client.clients import Client
from agentid.client.codes import RECENT
from agentid.client.filters import CodeFilter
from agentid.client.filters import InboxFilter
from agentid.client.filters import Paging
from agentid.client.filters import SmsFilter
from agentid.errors import SmsFiltered
from agentid.errors import Timeout

__all__ = [
    "DEFAULT_URL", "RECENT", "AsyncClient", "Call", "Client", "CodeFilter", "InboxFilter",
    "Paging", "SmsFilter", "SmsFiltered", "Timeout",
]  # fmt: skip
