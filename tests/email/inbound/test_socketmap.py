"""Postfix's socketmap protocol, as agentid serves it: netstring requests and replies on
one connection, the router's answers for ``recipient`` and ``domain``, nothing for a key
without a local part (Postfix's ``@domain`` fallback), a closed connection for a
malformed request."""

from __future__ import annotations

import asyncio
from datetime import UTC
from datetime import datetime
from datetime import timedelta

import pytest

from tests.conftest import Service
from tests.service import HOST
from tests.service import new_project

pytestmark = pytest.mark.asyncio(loop_scope="module")

OVERRIDES = {"socketmap_port": 0}


def netstring(text: str) -> bytes:
    data = text.encode()
    return str(len(data)).encode() + b":" + data + b","


async def ask(service: Service, *requests: str) -> list[str]:
    reader, writer = await asyncio.open_connection(HOST, service.running.socketmap_port)
    try:
        answers = []
        for request in requests:
            writer.write(netstring(request))
            head = await reader.readuntil(b":")
            body = await reader.readexactly(int(head[:-1]) + 1)
            assert body.endswith(b",")
            answers.append(body[:-1].decode())
        return answers
    finally:
        writer.close()


async def test_recipient_and_domain_lookups(shared: Service) -> None:
    strict = await new_project(shared, catch_all=False)
    loose = await new_project(shared)
    r = await shared.http.post(f"/projects/{loose.id}/email/aliases", json={"local_part": "off"})
    assert r.status_code == 201, r.text
    r = await shared.http.delete(f"/projects/{loose.id}/email/aliases/off@{loose.domain}")
    assert r.status_code == 200, r.text
    past = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    r = await shared.http.post(
        f"/projects/{loose.id}/email/aliases", json={"local_part": "late", "expires_at": past}
    )
    assert r.status_code == 201, r.text
    answers = await ask(
        shared,
        f"recipient {strict.primary}",
        f"recipient nobody@{strict.domain}",
        f"recipient anyone@{loose.domain}",
        f"recipient off@{loose.domain}",  # disabled: refused, catch-all or not
        f"recipient late@{loose.domain}",  # expired: the same
        f"recipient @{loose.domain}",
        "recipient x@not-hosted.example",
        f"domain {strict.domain}",
        "domain not-hosted.example",
        "aliases x@y.example",
    )
    assert answers == [
        "OK agentid",
        "NOTFOUND ",
        "OK agentid",
        "NOTFOUND ",
        "NOTFOUND ",
        "NOTFOUND ",
        "NOTFOUND ",
        "OK agentid",
        "NOTFOUND ",
        "PERM unknown table 'aliases'",
    ]


@pytest.mark.parametrize("junk", [b"abc:x,", b"5:abc,", b"99999999:x,", b"3:abcX"])
async def test_a_malformed_request_closes_the_connection(shared: Service, junk: bytes) -> None:
    reader, writer = await asyncio.open_connection(HOST, shared.running.socketmap_port)
    try:
        writer.write(junk)
        if junk == b"5:abc,":  # short: the server waits for the rest, then the end
            writer.write_eof()
        assert await asyncio.wait_for(reader.read(), 5) == b""
    finally:
        writer.close()
