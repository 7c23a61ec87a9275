"""``sendgrid://``: each answer of a local SendGrid (sendgrid_server.py) mapped through
the one failure table, messages SendGrid's JSON cannot say, and the URL's checks. No
message ever shows the API key."""

from __future__ import annotations

from datetime import UTC
from datetime import datetime
from urllib.parse import quote

import httpx
import pytest

from agentid.errors import ProviderAuth
from agentid.errors import ProviderError
from agentid.errors import ProviderRateLimited
from agentid.errors import ProviderRejected
from agentid.errors import ProviderUnavailable
from agentid.errors import ValidationFailed
from agentid.providers.mail.sendgrid import SendGridRelay
from tests.providers.mail.conftest import build
from tests.providers.mail.sendgrid_server import BAD_KEY
from tests.providers.mail.sendgrid_server import HOST
from tests.providers.mail.sendgrid_server import KEY
from tests.providers.mail.sendgrid_server import SendGrid
from tests.providers.sink import free_port

MESSAGE = (
    b"From: Agent <agent@acme.test>\r\n"
    b"To: shop@example.test\r\n"
    b"Subject: Your order\r\n"
    b"\r\n"
    b"Hello.\r\n"
)
ENCODED = quote(KEY, safe="")


async def fails(relay: SendGridRelay, message: bytes = MESSAGE) -> ProviderError:
    """The error sending ``message`` raises, checked to show no key and chain nothing."""
    with pytest.raises(ProviderError) as err:
        await relay.send("bounce@acme.test", ["shop@example.test"], message)
    assert KEY not in err.value.message and ENCODED not in err.value.message
    assert err.value.__cause__ is None
    return err.value


async def test_400_names_the_first_error(relay: SendGridRelay, sendgrid: SendGrid) -> None:
    untitled = MESSAGE.replace(b"Subject: Your order\r\n", b"")
    err = await fails(relay, untitled)
    assert type(err) is ProviderRejected and err.status == 422
    assert err.message == (
        f"sendgrid {HOST}:{sendgrid.port} rejected the request:"
        " HTTP 400, subject: The subject is required."
    )
    err = await fails(relay, untitled.replace(b"Hello.\r\n", b""))  # and no content
    assert err.message.endswith("subject: The subject is required. (and 1 more)")
    assert sendgrid.accepted == []


async def test_wrong_key_is_auth(sendgrid: SendGrid, http: httpx.AsyncClient) -> None:
    wrong = "SG.wrong.k3y"
    with pytest.raises(ProviderAuth) as err:
        await build(sendgrid.url(wrong), http).send("b@acme.test", ["s@example.test"], MESSAGE)
    assert err.value.message == (
        f"sendgrid {HOST}:{sendgrid.port} refused the credentials: HTTP 401, {BAD_KEY}"
    )
    assert wrong not in err.value.message and err.value.status == 502


@pytest.mark.parametrize(
    ("status", "error", "says"),
    [
        (403, ProviderAuth, "refused the credentials: HTTP 403"),
        (413, ProviderRejected, "refused the request as too large: HTTP 413"),
        (429, ProviderRateLimited, "asks to slow down: HTTP 429, too many requests"),
        (500, ProviderUnavailable, "failed: HTTP 500, internal error"),
        (502, ProviderUnavailable, "failed: HTTP 502"),
        (503, ProviderUnavailable, "failed: HTTP 503, service unavailable"),
    ],
)
async def test_statuses(
    relay: SendGridRelay,
    sendgrid: SendGrid,
    status: int,
    error: type[ProviderError],
    says: str,
) -> None:
    sendgrid.fail_next(status)
    err = await fails(relay)
    assert type(err) is error and says in err.message
    await relay.send("b@acme.test", ["shop@example.test"], MESSAGE)  # the next one goes
    assert len(sendgrid.accepted) == 1


async def test_429_carries_retry_after(relay: SendGridRelay, sendgrid: SendGrid) -> None:
    sendgrid.fail_next(429, headers={"Retry-After": "7"})
    err = await fails(relay)
    assert isinstance(err, ProviderRateLimited) and err.retry_after == 7.0
    assert err.headers() == {"Retry-After": "7"}


async def test_429_carries_rate_limit_reset(relay: SendGridRelay, sendgrid: SendGrid) -> None:
    reset = int(datetime.now(UTC).timestamp()) + 60
    limits = {"X-RateLimit-Limit": "600", "X-RateLimit-Remaining": "0"}
    sendgrid.fail_next(429, headers=limits | {"X-RateLimit-Reset": str(reset)})
    err = await fails(relay)
    assert isinstance(err, ProviderRateLimited)
    assert err.retry_after is not None and 50 <= err.retry_after <= 61


async def test_too_large_for_the_server(relay: SendGridRelay, sendgrid: SendGrid) -> None:
    sendgrid.max_bytes = 100
    err = await fails(relay)
    assert type(err) is ProviderRejected and "too large: HTTP 413" in err.message


async def test_what_sendgrid_says_is_scrubbed(relay: SendGridRelay, sendgrid: SendGrid) -> None:
    sendgrid.fail_next(400, message=f"the key {KEY} may not send from acme.test")
    err = await fails(relay)
    assert "the key *** may not send from acme.test" in err.message


async def test_closed_port_is_unavailable(http: httpx.AsyncClient) -> None:
    err = await fails(build(f"sendgrid+http://{ENCODED}@{HOST}:{free_port()}", http))
    assert type(err) is ProviderUnavailable and "could not be reached" in err.message


async def test_slow_server_is_unavailable(sendgrid: SendGrid, http: httpx.AsyncClient) -> None:
    sendgrid.delay = 10.0  # held until the server stops
    err = await fails(build(sendgrid.url(query="?timeout=0.2"), http))
    assert type(err) is ProviderUnavailable and "timed out" in err.message


@pytest.mark.parametrize(
    ("message", "says"),
    [
        (MESSAGE.replace(b"From: Agent <agent@acme.test>\r\n", b""), "the message has 0"),
        (MESSAGE.replace(b"From: Agent", b"From: a@acme.test, Agent"), "the message has 2"),
    ],
)
async def test_unsendable_never_reaches_sendgrid(
    relay: SendGridRelay, sendgrid: SendGrid, message: bytes, says: str
) -> None:
    err = await fails(relay, message)
    assert type(err) is ProviderRejected
    assert err.message.startswith(f"sendgrid {HOST}:{sendgrid.port} cannot take this message")
    assert says in err.message and sendgrid.requests == 0


async def test_no_recipients_is_rejected(relay: SendGridRelay, sendgrid: SendGrid) -> None:
    with pytest.raises(ProviderRejected, match="at least one recipient"):
        await relay.send("b@acme.test", [], MESSAGE)
    assert sendgrid.requests == 0


# --- the URL -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "endpoint"),
    [
        (f"sendgrid://{ENCODED}@api.sendgrid.com", "https://api.sendgrid.com"),
        (f"sendgrid://{ENCODED}@API.EU.SendGrid.com/", "https://api.eu.sendgrid.com"),
        (f"sendgrid+http://{ENCODED}@127.0.0.1:9100/base", "http://127.0.0.1:9100/base"),
    ],
)
def test_urls(url: str, endpoint: str) -> None:
    relay = build(url)
    assert relay.endpoint == endpoint and KEY not in repr(relay)


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("sendgrid://api.sendgrid.com", "needs the API key as its user"),
        (f"sendgrid://:{ENCODED}@", "needs the API key as its user"),
        (f"sendgrid://apikey:{ENCODED}@api.sendgrid.com", "no password"),
        (f"sendgrid://{ENCODED}@api.sendgrid.net", "must be api.sendgrid.com or api.eu"),
        (f"sendgrid://{ENCODED}@", "must be api.sendgrid.com or api.eu"),
        (f"sendgrid://{ENCODED}@api.sendgrid.com:8443", "takes no port or path"),
        (f"sendgrid://{ENCODED}@api.sendgrid.com/v3", "takes no port or path"),
        (f"sendgrid://{ENCODED}@api.sendgrid.com?region=eu", "no query parameter 'region'"),
        (f"sendgrid://{ENCODED}@api.sendgrid.com?timeout=0", "'timeout' must be > 0"),
        ("sendgrid://SG.k%C3%A9y@api.sendgrid.com", "is ASCII"),
    ],
)
def test_malformed_urls(url: str, says: str) -> None:
    with pytest.raises(ValidationFailed) as err:
        build(url)
    assert says in err.value.message
    assert KEY not in err.value.message and ENCODED not in err.value.message
