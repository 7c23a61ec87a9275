"""The verdict stage on slow DNS, against a scripted name server on loopback that answers
NXDOMAIN at once except for names under ``slow.test``, which it never answers:

- a check waiting on the network holds up no other: its thread lets another compute;
- an unsigned message's verdict is reused for its sender's next within a second, never a
  signed message's and never a temperror;
- a message deleted while its check ran gets no event, and the verdicts after it are
  written.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dns.message
import dns.rcode
import pytest

from agentid.dns import auth_checker
from agentid.dns.auth_checker import Checker
from tests.conftest import Service
from tests.conftest import make_settings
from tests.conftest import serving
from tests.dns.nameserver import HOST
from tests.email.inbound.authentication import ALLOWED
from tests.email.inbound.authentication import mail
from tests.email.inbound.authentication import send_from
from tests.email.inbound.authentication import verdict_of
from tests.service import hosted
from tests.service import new_alias
from tests.service import newest_id

SLOW = "slow.test"


class ScriptedDns:
    """NXDOMAIN at once for every name but those under ``SLOW``, which get no answer."""

    def __init__(self) -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._sock.bind((HOST, 0))
        self.port = int(self._sock.getsockname()[1])
        self.asked: Counter[str] = Counter()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                data, peer = self._sock.recvfrom(4096)
            except OSError:
                return  # closed
            query = dns.message.from_wire(data)
            name = query.question[0].name.to_text().lower()
            self.asked[name] += 1
            if name.endswith(f"{SLOW}."):
                continue
            answer = dns.message.make_response(query)
            answer.set_rcode(dns.rcode.NXDOMAIN)
            self._sock.sendto(answer.to_wire(), peer)

    @property
    def total(self) -> int:
        return sum(self.asked.values())

    def close(self) -> None:
        self._sock.close()
        self._thread.join(5)


@pytest.fixture(scope="module")
def scripted() -> Iterator[ScriptedDns]:
    server = ScriptedDns()
    yield server
    server.close()


@pytest.fixture
def overrides(scripted: ScriptedDns) -> dict[str, Any]:
    return {
        "dns_nameservers": f"{HOST}:{scripted.port}",
        "auth_timeout_seconds": 2,
        "auth_threads": 2,
    }


async def _sent(service: Service, project: str, sender: str, code: str = "") -> str:
    """Send a message from ``sender`` to a new alias of ``project``; its id."""
    alias = await new_alias(service, project)
    before = await newest_id(service, project)
    body = f"Your code is {code}" if code else "Hello"
    await send_from(service, ALLOWED, alias, mail(alias, sender, "hi", body), sender)
    for _ in range(200):
        mid = await newest_id(service, project)
        if mid is not None and mid != before:
            return mid
        await asyncio.sleep(0.02)
    raise AssertionError("the message did not arrive")


async def _verdict_now(service: Service, project: str, mid: str) -> Any:
    r = await service.http.get(f"/projects/{project}/email/messages/{mid}")
    return r.json()["auth_results"]


async def test_a_check_waiting_on_dns_holds_up_no_other(
    backend: str, tmp_path: Path, overrides: dict[str, Any]
) -> None:
    slow_check = overrides | {"auth_timeout_seconds": 6}  # room for a loaded machine
    async with serving(tmp_path / "data", backend, **slow_check) as (service, _):
        await hosted(service, "acme", "acme.test")
        slow = await _sent(service, "acme", f"a@{SLOW}")
        started = time.monotonic()
        for n in range(3):
            mid = await _sent(service, "acme", f"b@fast{n}.test")
            verdict = (await verdict_of(service, "acme", mid, wait=5))["auth_results"]
            assert verdict["spf"] == "none" and verdict["dmarc"] == "none"
        assert time.monotonic() - started < 5  # within the slow check's time
        assert await _verdict_now(service, "acme", slow) is None  # still waiting on DNS
        verdict = (await verdict_of(service, "acme", slow))["auth_results"]
        assert verdict["spf"] == "temperror"


async def test_a_message_deleted_during_its_check_holds_up_no_verdict_after(
    service: Service,
) -> None:
    await hosted(service, "acme", "acme.test")
    gone = await _sent(service, "acme", f"a@{SLOW}", code="428113")  # checked for 2 s
    r = await service.http.delete(f"/projects/acme/email/messages/{gone}")
    assert r.status_code == 204
    await asyncio.sleep(2.5)  # its verdict is due, for a message no longer there
    mid = await _sent(service, "acme", "b@fast.test", code="771204")
    verdict = (await verdict_of(service, "acme", mid, wait=5))["auth_results"]
    assert verdict["spf"] == "none"
    codes = (await service.http.get("/projects/acme/codes")).json()["codes"]
    assert [(c["value"], c["authenticated"]) for c in codes] == [("771204", False)]


UNSIGNED = b"From: a@fast.test\r\nTo: x@acme.test\r\nSubject: hi\r\n\r\nHello\r\n"
SIGNED = b"DKIM-Signature: v=1; a=rsa-sha256; d=fast.test; s=s1; h=from; bh=x; b=y\r\n" + UNSIGNED


def _checker(tmp_path: Path, scripted: ScriptedDns) -> Checker:
    return Checker(make_settings(tmp_path, dns_nameservers=f"{HOST}:{scripted.port}"))


def _run(checker: Checker, raw: bytes, sender: str = "a@fast.test", wait: float = 2) -> Any:
    deadline = time.monotonic() + wait
    return checker.run("127.0.0.2", "mail.fast.test", sender, sender, raw, deadline)


def test_an_unsigned_senders_verdict_is_reused_within_a_second(
    tmp_path: Path, scripted: ScriptedDns, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The reuse stands 1 s in service; 3 s here, so that a stalled machine between two
    # checks does not end it early.
    monkeypatch.setattr(auth_checker, "REUSE_SECONDS", 3.0)
    checker = _checker(tmp_path, scripted)
    first = _run(checker, UNSIGNED)
    asked = scripted.total
    assert asked > 0 and first["spf"] == "none"
    assert _run(checker, UNSIGNED) is first and scripted.total == asked  # reused
    other = _run(checker, UNSIGNED, sender="b@other.test")
    assert other is not first and scripted.total > asked  # another sender is checked
    time.sleep(3.1)
    again = _run(checker, UNSIGNED)
    assert again is not first and again == first  # checked again once the reuse ended


def test_a_signed_message_or_a_temperror_is_always_checked(
    tmp_path: Path, scripted: ScriptedDns
) -> None:
    checker = _checker(tmp_path, scripted)
    assert _run(checker, SIGNED) is not _run(checker, SIGNED)
    slow = f"a@{SLOW}"
    assert _run(checker, UNSIGNED, sender=slow, wait=0.3)["spf"] == "temperror"
    asked = scripted.asked[f"{SLOW}."]
    assert _run(checker, UNSIGNED, sender=slow, wait=0.3)["spf"] == "temperror"
    assert scripted.asked[f"{SLOW}."] > asked  # asked again, not reused
