"""``ses://``: the relay against moto's SES server (sending, an unverified sender, refused
credentials) and against a stub answering as SES does (errors, slowness, signatures).

moto is a dev dependency (``make install``); without it the moto tests skip, unless
``AGENTID_REQUIRE_EXTERNAL=1`` makes that a failure.
"""

from __future__ import annotations

import asyncio
import base64
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import boto3
import httpx
import pytest

from agentid.errors import ProviderAuth
from agentid.errors import ProviderRateLimited
from agentid.errors import ProviderRejected
from agentid.errors import ProviderUnavailable
from agentid.providers.base import MailRelay
from agentid.providers.mail.ses import SesRelay
from agentid.providers.registry import Registry
from agentid.providers.registry import Transports
from agentid.providers.registry import register_builtins
from tests.providers.mail.ses_stub import MESSAGE_ID
from tests.providers.mail.ses_stub import SesStub
from tests.providers.mail.ses_stub import running_stub
from tests.providers.sink import HOST
from tests.providers.sink import free_port

MESSAGE = (
    b"From: Agent <agent@acme.test>\r\n"
    b"To: shop@example.test\r\n"
    b"Subject: =?utf-8?q?Gr=C3=BC=C3=9Fe?=\r\n"
    b"Message-ID: <m1@acme.test>\r\n"
    b"\r\n"
    b"Gr\xc3\xbc\xc3\x9fe, raw UTF-8.\r\n"
    b".a line that starts with a dot\r\n"
    b"\r\n"
    b"Bye\r\n"
)
KEY_ID = "AKIDAGENTIDTEST01"
SECRET = "s3cr3t/Key+with:odd@chars"
REGION = "us-east-1"


def relay(url: str) -> SesRelay:
    registry = Registry()
    register_builtins(registry)
    built = registry.relay(url, Transports())
    assert isinstance(built, SesRelay) and isinstance(built, MailRelay)
    return built


def local(endpoint: str, *, region: str = REGION, query: str = "", login: bool = True) -> str:
    userinfo = f"{KEY_ID}:{quote(SECRET, safe='')}@" if login else ""
    return f"ses+http://{userinfo}{endpoint}?region={region}{query}"


# --- against moto ------------------------------------------------------------------------


@pytest.fixture
def moto(moto_server: str) -> str:
    """moto emptied, with acme.test verified for sending: ``host:port``."""
    httpx.post(f"http://{moto_server}/moto-api/reset").raise_for_status()
    admin = boto3.client(
        "sesv2",
        region_name=REGION,
        endpoint_url=f"http://{moto_server}",
        aws_access_key_id=KEY_ID,
        aws_secret_access_key=SECRET,
    )
    admin.create_email_identity(EmailIdentity="acme.test")
    return moto_server


def recorded(moto: str) -> list[dict[str, Any]]:
    """The raw messages moto's SES took, as it keeps them."""
    data = httpx.get(f"http://{moto}/moto-api/data.json").json()
    messages: list[dict[str, Any]] = data["ses"]["RawMessage"]
    return messages


async def test_sends_the_bytes_and_the_envelope(moto: str) -> None:
    recipients = ["shop@example.test", "hidden@example.test"]  # the second is a Bcc
    sent = await relay(local(moto)).send("bounce@acme.test", recipients, MESSAGE)
    [got] = recorded(moto)
    assert sent.message_id == got["id"] and sent.refused == ()
    assert got["source"] == "bounce@acme.test"
    # moto appends the header recipients to the envelope's: the envelope comes first.
    assert got["destinations"][: len(recipients)] == recipients
    assert got["raw_data"].encode() == MESSAGE
    assert b"hidden@example.test" not in got["raw_data"].encode()


async def test_one_client_for_concurrent_sends(moto: str) -> None:
    relay_ = relay(local(moto))
    sends = [relay_.send("a@acme.test", [f"r{i}@example.test"], MESSAGE) for i in range(5)]
    sent = await asyncio.gather(*sends)
    assert len({s.message_id for s in sent}) == 5
    assert sorted(m["destinations"][0] for m in recorded(moto)) == [
        f"r{i}@example.test" for i in range(5)
    ]
    assert relay_.client() is relay_.client()


async def test_unverified_sender_is_rejected_with_the_reason(moto: str) -> None:
    with pytest.raises(ProviderRejected) as err:
        await relay(local(moto)).send("agent@unverified.test", ["shop@example.test"], MESSAGE)
    assert err.value.status == 422
    assert "MessageRejected" in err.value.message
    assert "unverified.test" in err.value.message  # moto's words: "Did not have authority..."
    assert err.value.__cause__ is None and err.value.__suppress_context__
    assert recorded(moto) == []


async def test_refused_credentials_are_auth_and_never_shown(moto: str) -> None:
    # moto checks signatures against its IAM users once told to check from request 0.
    check = {"content-type": "text/plain"}
    httpx.post(f"http://{moto}/moto-api/reset-auth", content=b"0", headers=check)
    try:
        built = relay(local(moto))
        with pytest.raises(ProviderAuth) as err:
            await built.send("a@acme.test", ["shop@example.test"], MESSAGE)
    finally:
        httpx.post(f"http://{moto}/moto-api/reset-auth", content=b"inf", headers=check)
    assert err.value.status == 502 and "refused the credentials" in err.value.message
    for shown in (err.value.message, repr(built)):
        assert SECRET not in shown and quote(SECRET, safe="") not in shown


# --- against a stub answering as SES does --------------------------------------------------


@pytest.fixture
def stub() -> Iterator[SesStub]:
    with running_stub() as running:
        yield running


async def test_request_as_ses_gets_it(stub: SesStub) -> None:
    url = local(stub.endpoint, region="eu-west-1", query="&configuration_set=agentid-out")
    sent = await relay(url).send("bounce@acme.test", ["a@example.test", "b@example.test"], MESSAGE)
    assert sent.message_id == MESSAGE_ID
    [request] = stub.requests
    assert request.path == "/v2/email/outbound-emails"
    assert request.body["FromEmailAddress"] == "bounce@acme.test"
    assert request.body["Destination"] == {"ToAddresses": ["a@example.test", "b@example.test"]}
    assert base64.b64decode(request.body["Content"]["Raw"]["Data"]) == MESSAGE
    assert request.body["ConfigurationSetName"] == "agentid-out"
    assert f"Credential={KEY_ID}/" in request.headers["authorization"]
    assert "/eu-west-1/ses/aws4_request" in request.headers["authorization"]


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    """An AWS credential chain that finds nothing but what a test puts in the environment."""
    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    return monkeypatch


async def test_credentials_from_the_standard_chain(stub: SesStub, aws_env: Any) -> None:
    aws_env.setenv("AWS_ACCESS_KEY_ID", "AKIDFROMTHEENV")
    aws_env.setenv("AWS_SECRET_ACCESS_KEY", "env-secret")
    await relay(local(stub.endpoint, login=False)).send("a@acme.test", ["b@x.test"], MESSAGE)
    [request] = stub.requests
    assert "Credential=AKIDFROMTHEENV/" in request.headers["authorization"]


async def test_no_credentials_anywhere_is_auth(stub: SesStub, aws_env: Any) -> None:
    with pytest.raises(ProviderAuth, match="has no credentials to use"):
        await relay(local(stub.endpoint, login=False)).send("a@acme.test", ["b@x.test"], MESSAGE)
    assert stub.requests == []


@pytest.mark.parametrize(
    ("status", "error_type", "says", "error"),
    [
        (400, "MessageRejected", "Email address is not verified.", ProviderRejected),
        (400, "MailFromDomainNotVerifiedException", "MAIL FROM not verified", ProviderRejected),
        (400, "AccountSuspendedException", "sending permanently restricted", ProviderRejected),
        (400, "SendingPausedException", "sending is paused", ProviderRejected),
        (400, "BadRequestException", "Missing final '@domain'", ProviderRejected),
        (404, "NotFoundException", "Configuration set <x> does not exist.", ProviderRejected),
        (429, "TooManyRequestsException", "Maximum sending rate exceeded.", ProviderRateLimited),
        (400, "LimitExceededException", "Daily message quota exceeded.", ProviderRateLimited),
        (403, "UnrecognizedClientException", "The security token is invalid.", ProviderAuth),
        (403, "InvalidSignatureException", "The request signature we calculated", ProviderAuth),
        (500, "InternalFailure", "An internal error occurred.", ProviderUnavailable),
        (503, "ServiceUnavailable", "Service is unavailable.", ProviderUnavailable),
        (418, "SomethingNewException", "a code no row names", ProviderRejected),  # by status
    ],
)
async def test_ses_errors_are_mapped_and_not_retried(
    stub: SesStub, status: int, error_type: str, says: str, error: type[Exception]
) -> None:
    stub.fail(status, error_type, f"{says} (key {SECRET})")
    with pytest.raises(error) as err:
        await relay(local(stub.endpoint)).send("a@acme.test", ["b@example.test"], MESSAGE)
    assert type(err.value) is error
    assert f"{error_type}: {says}" in str(err.value)
    assert SECRET not in str(err.value)
    assert len(stub.requests) == 1  # botocore retries nothing: the outbox does


async def test_throttled_with_retry_after(stub: SesStub) -> None:
    stub.fail(429, "TooManyRequestsException", "slow down", **{"Retry-After": "7"})
    with pytest.raises(ProviderRateLimited) as err:
        await relay(local(stub.endpoint)).send("a@acme.test", ["b@example.test"], MESSAGE)
    assert err.value.retry_after == 7.0 and err.value.status == 429


async def test_slow_answer_times_out_quickly(stub: SesStub) -> None:
    stub.delay = 3.0
    started = time.monotonic()
    with pytest.raises(ProviderUnavailable, match="timed out"):
        await relay(local(stub.endpoint, query="&timeout=0.3")).send(
            "a@acme.test", ["b@example.test"], MESSAGE
        )
    assert time.monotonic() - started < 2.0
    assert len(stub.requests) == 1


async def test_the_event_loop_runs_while_ses_answers(stub: SesStub) -> None:
    stub.delay = 0.5
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.02)
            ticks += 1

    ticker = asyncio.create_task(tick())
    await relay(local(stub.endpoint)).send("a@acme.test", ["b@example.test"], MESSAGE)
    ticker.cancel()
    assert ticks >= 10


async def test_unreachable_endpoint_is_unavailable_at_once() -> None:
    started = time.monotonic()
    with pytest.raises(ProviderUnavailable, match="could not be reached") as err:
        await relay(local(f"{HOST}:{free_port()}")).send("a@acme.test", ["b@x.test"], MESSAGE)
    assert time.monotonic() - started < 2.0
    assert SECRET not in err.value.message


async def test_no_recipients_is_rejected() -> None:
    with pytest.raises(ProviderRejected, match="at least one recipient"):
        await relay("ses://eu-west-1").send("a@acme.test", [], MESSAGE)


async def test_ses_against_moto_makes_the_identity(moto: str) -> None:
    ses = relay(local(moto))
    await ses.domain_records("other.test")  # moto gives no tokens, but keeps the identity
    admin = boto3.client(
        "sesv2",
        region_name=REGION,
        endpoint_url=f"http://{moto}",
        aws_access_key_id=KEY_ID,
        aws_secret_access_key=SECRET,
    )
    assert admin.get_email_identity(EmailIdentity="other.test")["IdentityType"] == "DOMAIN"
