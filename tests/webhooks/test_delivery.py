"""One delivery attempt against real receivers on loopback: over TLS it connects to the
address it checked while naming the host in SNI and ``Host`` (the certificate is checked
against the name); a refused target is never connected to; answers become outcomes."""

from __future__ import annotations

import ssl
from pathlib import Path

import httpx

from agentid.webhooks import delivery
from agentid.webhooks import signing
from tests.tls import self_signed
from tests.webhooks.receiver import receiving
from tests.webhooks.receiver import verified

BODY = b'{"type":"sms.filtered","timestamp":"2030-01-01T10:00:00Z","data":{}}'


async def test_tls_to_the_checked_address_with_the_name_in_sni_and_host(tmp_path: Path) -> None:
    cert = self_signed(tmp_path, with_ip=False)  # good for the name only, not for 127.0.0.1
    secret, key = signing.new_secret()
    trusting = ssl.create_default_context(cafile=str(cert[0]))
    async with (
        receiving(cert=cert) as receiver,
        httpx.AsyncClient(verify=trusting, trust_env=False) as http,
    ):
        url = receiver.url("/in?x=1", host="localhost", scheme="https")
        outcome = await delivery.post(http, url, key, "msg_1", BODY, seconds=5, allow_private=True)
        (seen,) = await receiver.wait_for(1)
    assert outcome == delivery.Outcome(200)
    assert seen.server_name == "localhost" and seen.peer == "127.0.0.1"
    assert seen.headers["host"] == f"localhost:{receiver.port}" and seen.target == "/in?x=1"
    assert verified(secret, seen)["type"] == "sms.filtered"
    assert seen.headers["webhook-id"] == "msg_1"


async def test_a_certificate_for_another_name_is_refused(tmp_path: Path) -> None:
    cert = self_signed(tmp_path, host="elsewhere.test", with_ip=False)
    trusting = ssl.create_default_context(cafile=str(cert[0]))
    async with (
        receiving(cert=cert) as receiver,
        httpx.AsyncClient(verify=trusting, trust_env=False) as http,
    ):
        url = receiver.url(host="localhost", scheme="https")
        outcome = await delivery.post(
            http, url, b"k" * 32, "m", BODY, seconds=5, allow_private=True
        )
    assert outcome.status_code is None and outcome.error is not None
    assert receiver.requests == []


async def test_refused_before_connecting_and_answers_as_outcomes() -> None:
    async with receiving(302, 503, 410) as receiver, delivery.client() as http:
        local = receiver.url(host="localhost")
        refused = await delivery.post(
            http, local, b"k" * 32, "m", BODY, seconds=5, allow_private=False
        )
        assert refused.status_code is None and "a loopback address" in (refused.error or "")
        assert receiver.requests == []
        answers = [
            await delivery.post(http, local, b"k" * 32, "m", BODY, seconds=5, allow_private=True)
            for _ in range(4)
        ]
    moved, busy, gone, fine = answers
    assert (moved.status_code, moved.delivered, moved.error) == (302, False, "HTTP 302 Found")
    assert (busy.status_code, busy.gone, gone.gone, fine.delivered) == (503, False, True, True)
    async with delivery.client() as http:  # the receiver is gone
        unreachable = await delivery.post(
            http, local, b"k" * 32, "m", BODY, seconds=5, allow_private=True
        )
    assert unreachable.status_code is None
    assert "connecting to 127.0.0.1 failed" in (unreachable.error or "")
