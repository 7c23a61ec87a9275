"""``smtp://``: the relay against a real SMTP server (aiosmtpd), and each SMTP failure
mapped through the one table."""

from __future__ import annotations

import functools
import ssl
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiosmtplib
import pytest

from agentid.errors import ProviderAuth
from agentid.errors import ProviderError
from agentid.errors import ProviderRejected
from agentid.errors import ProviderUnavailable
from agentid.errors import ValidationFailed
from agentid.providers.base import MailRelay
from agentid.providers.base import Refusal
from agentid.providers.mail.smtp import SmtpRelay
from agentid.providers.registry import AioSmtpClients
from agentid.providers.registry import Registry
from agentid.providers.registry import Transports
from agentid.providers.registry import register_builtins
from tests.providers.sink import HOST
from tests.providers.sink import Sink
from tests.providers.sink import free_port
from tests.providers.sink import running_sink
from tests.tls import self_signed

MESSAGE = (
    b"From: Agent <agent@acme.test>\r\n"
    b"To: shop@example.test\r\n"
    b"Subject: =?utf-8?q?Gr=C3=BC=C3=9Fe?=\r\n"
    b"Message-ID: <m1@acme.test>\r\n"
    b"\r\n"
    b"Hello.\r\n"
    b".a line that starts with a dot (dot-stuffed on the wire)\r\n"
    b"..two dots\r\n"
    b"\r\n"
    b"Bye\r\n"
)
PASSWORD = "s3cr3t pa@ss:/word"


def relay(url: str, *, timeout: float | None = None) -> SmtpRelay:
    registry = Registry()
    register_builtins(registry)
    if timeout is not None:
        url += f"{'&' if '?' in url else '?'}timeout={timeout}"
    built = registry.relay(url, Transports())
    assert isinstance(built, SmtpRelay)
    return built


async def test_sends_envelope_and_bytes_exactly(sink: Sink) -> None:
    relay_ = relay(f"smtp://{HOST}:{sink.port}")
    assert isinstance(relay_, MailRelay)
    sent = await relay_.send("bounce@acme.test", ["a@example.test", "b@example.test"], MESSAGE)
    assert sent.message_id == "4Xk9ZQ1"
    assert sent.reply is not None and "queued as 4Xk9ZQ1" in sent.reply
    assert sent.refused == ()
    [got] = sink.received
    assert got.sender == "bounce@acme.test"
    assert got.recipients == ["a@example.test", "b@example.test"]
    assert got.data == MESSAGE


async def test_some_recipients_refused_is_reported(sink: Sink) -> None:
    sink.rcpt_replies["gone@example.test"] = "550 5.1.1 no such user"
    sent = await relay(f"smtp://{HOST}:{sink.port}").send(
        "bounce@acme.test", ["ok@example.test", "gone@example.test"], MESSAGE
    )
    assert sent.refused == (Refusal("gone@example.test", 550, "5.1.1 no such user"),)
    assert [r.recipients for r in sink.received] == [["ok@example.test"]]


async def test_5xx_is_rejected(sink: Sink) -> None:
    sink.data_reply = "554 5.7.1 message refused by policy"
    with pytest.raises(ProviderRejected) as err:
        await relay(f"smtp://{HOST}:{sink.port}").send("a@acme.test", ["b@example.test"], MESSAGE)
    assert err.value.status == 422
    assert "554 5.7.1 message refused by policy" in err.value.message
    assert sink.received == []


async def test_every_recipient_refused_is_reported_one_by_one(sink: Sink) -> None:
    """Each refusal has its own verdict: a mailbox that does not exist, one that is busy."""
    sink.rcpt_replies["gone@example.test"] = "550 5.1.1 no such user"
    sink.rcpt_replies["busy@example.test"] = "450 4.2.1 mailbox busy"
    sent = await relay(f"smtp://{HOST}:{sink.port}").send(
        "a@acme.test", ["gone@example.test", "busy@example.test"], MESSAGE
    )
    assert sent.message_id is None and sink.received == []
    assert sorted((r.recipient, r.code) for r in sent.refused) == [
        ("busy@example.test", 450),
        ("gone@example.test", 550),
    ]


async def test_4xx_is_unavailable(sink: Sink) -> None:
    sink.data_reply = "451 4.3.0 try again later"
    with pytest.raises(ProviderUnavailable) as err:
        await relay(f"smtp://{HOST}:{sink.port}").send("a@acme.test", ["b@example.test"], MESSAGE)
    assert err.value.status == 502
    assert "451 4.3.0 try again later" in err.value.message


async def test_4xx_at_rcpt_is_that_recipients(sink: Sink) -> None:
    sink.rcpt_replies["busy@example.test"] = "450 4.2.1 mailbox busy"
    sent = await relay(f"smtp://{HOST}:{sink.port}").send(
        "a@acme.test", ["busy@example.test"], MESSAGE
    )
    assert [(r.code, r.reply) for r in sent.refused] == [(450, "4.2.1 mailbox busy")]


async def test_closed_port_is_unavailable() -> None:
    with pytest.raises(ProviderUnavailable, match="could not be reached"):
        await relay(f"smtp://{HOST}:{free_port()}").send("a@acme.test", ["b@example.test"], MESSAGE)


async def test_slow_server_is_unavailable(sink: Sink) -> None:
    sink.data_delay = 2.0
    with pytest.raises(ProviderUnavailable, match="timed out"):
        await relay(f"smtp://{HOST}:{sink.port}", timeout=0.3).send(
            "a@acme.test", ["b@example.test"], MESSAGE
        )


async def test_hang_up_is_unavailable(sink: Sink) -> None:
    sink.hang_up_at_data = True
    with pytest.raises(ProviderUnavailable, match="closed the connection"):
        await relay(f"smtp://{HOST}:{sink.port}").send("a@acme.test", ["b@example.test"], MESSAGE)


async def test_starttls_required_but_not_offered(sink: Sink) -> None:
    with pytest.raises(ProviderError) as err:
        await relay(f"smtp://{HOST}:{sink.port}?starttls=1").send(
            "a@acme.test", ["b@example.test"], MESSAGE
        )
    assert type(err.value) is ProviderError and err.value.status == 502


async def test_login_with_percent_encoded_credentials() -> None:
    with running_sink(user="relay-user", password=PASSWORD) as sink:
        url = f"smtp://relay-user:{quote(PASSWORD, safe='')}@{HOST}:{sink.port}?starttls=0"
        sent = await relay(url).send("a@acme.test", ["b@example.test"], MESSAGE)
        assert sent.message_id == "4Xk9ZQ1" and len(sink.received) == 1


async def test_wrong_password_is_auth_and_never_shown() -> None:
    with running_sink(user="relay-user", password="right") as sink:
        url = f"smtp://relay-user:{quote(PASSWORD, safe='')}@{HOST}:{sink.port}?starttls=0"
        built = relay(url)
        with pytest.raises(ProviderAuth) as err:
            await built.send("a@acme.test", ["b@example.test"], MESSAGE)
    assert err.value.status == 502
    assert PASSWORD not in err.value.message and quote(PASSWORD, safe="") not in err.value.message
    assert PASSWORD not in repr(built)
    assert err.value.__cause__ is None and err.value.__suppress_context__


async def test_no_recipients_is_rejected(sink: Sink) -> None:
    with pytest.raises(ProviderRejected):
        await relay(f"smtp://{HOST}:{sink.port}").send("a@acme.test", [], MESSAGE)


async def test_utf8_address_without_smtputf8_is_rejected(sink: Sink) -> None:
    with pytest.raises(ProviderRejected, match="lacks an extension"):
        await relay(f"smtp://{HOST}:{sink.port}").send(
            "grüße@acme.test", ["b@example.test"], MESSAGE
        )
    assert sink.received == []


async def test_utf8_address_with_smtputf8() -> None:
    with running_sink(smtputf8=True) as sink:
        await relay(f"smtp://{HOST}:{sink.port}").send(
            "grüße@acme.test", ["b@example.test"], MESSAGE
        )
        [got] = sink.received
    assert got.sender == "grüße@acme.test" and got.data == MESSAGE


async def test_smtps_is_tls_from_the_first_byte(tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path)
    server_side = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_side.load_cert_chain(cert, key)
    trusting = ssl.create_default_context(cafile=str(cert))
    transports = Transports(smtp=functools.partial(aiosmtplib.SMTP, tls_context=trusting))
    registry = Registry()
    register_builtins(registry)
    with running_sink(tls=server_side) as tls_sink:
        smtps = registry.relay(f"smtps://{HOST}:{tls_sink.port}", transports)
        assert isinstance(smtps, SmtpRelay) and smtps.name.startswith("smtps relay")
        sent = await smtps.send("bounce@acme.test", ["a@example.test"], MESSAGE)
        assert sent.message_id == "4Xk9ZQ1" and tls_sink.received[0].data == MESSAGE
        plain = registry.relay(f"smtp://{HOST}:{tls_sink.port}?starttls=0&timeout=3", transports)
        with pytest.raises(ProviderError):  # cleartext to a TLS port gets nowhere
            await plain.send("bounce@acme.test", ["a@example.test"], MESSAGE)
    with running_sink(tls=server_side) as tls_sink:
        untrusted = registry.relay(f"smtps://{HOST}:{tls_sink.port}", Transports())
        with pytest.raises(ProviderError):  # a certificate nobody vouches for
            await untrusted.send("bounce@acme.test", ["a@example.test"], MESSAGE)
        assert tls_sink.received == []


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("smtps://h?starttls=1", "starttls does not apply"),
        ("smtp://h?dkim=maybe", "'dkim' is agentid or relay"),
    ],
)
def test_smtps_and_dkim_parameters(url: str, says: str) -> None:
    registry = Registry()
    register_builtins(registry)
    with pytest.raises(ValidationFailed) as err:
        registry.relay(url, Transports())
    assert says in str(err.value)
    assert registry.relay("smtps://u:p@h", Transports()).port == 465  # type: ignore[attr-defined]


def test_relay_connections_share_one_tls_context() -> None:
    """Making a TLS context reads the CA bundle (about 20 ms, in the event loop): it is made
    once, not for every connection; a context handed in is kept."""
    clients = AioSmtpClients(local_hostname="mx.agentid.test")
    options: dict[str, Any] = {"hostname": "relay.example", "port": 465, "use_tls": True}
    first, second = clients(**options), clients(**options)
    assert first.tls_context is not None and first.tls_context is second.tls_context
    assert first.tls_context.verify_mode == ssl.CERT_REQUIRED
    own = ssl.create_default_context()
    assert clients(**options, tls_context=own).tls_context is own
