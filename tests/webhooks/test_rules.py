"""The rules under webhooks, without a server: the retry schedule, what each event kind's
payload keeps, how a URL is read, and which addresses are refused."""

from __future__ import annotations

import ipaddress
import itertools
import json
import random
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from typing import get_args

import pytest

from agentid.errors import ValidationFailed
from agentid.events import Kind
from agentid.webhooks import payloads
from agentid.webhooks import signing
from agentid.webhooks import targets
from agentid.webhooks.dispatcher import MAX_ATTEMPTS
from agentid.webhooks.dispatcher import WINDOW
from agentid.webhooks.dispatcher import next_attempt
from agentid.webhooks.schemas import WebhookEvent

T0 = datetime(2030, 1, 1, tzinfo=UTC)


def test_retries_grow_fivefold_for_at_most_eight_attempts_within_a_day() -> None:
    rng = random.Random(7)
    now, waits = T0, []
    for attempts in range(1, MAX_ATTEMPTS):
        when = next_attempt(attempts, T0, now, 5.0, rng)
        assert when is not None
        waits.append((when - now).total_seconds())
        now = when
    assert next_attempt(MAX_ATTEMPTS, T0, now, 5.0, rng) is None  # the eighth was the last
    assert 4 <= waits[0] <= 6  # a few seconds first
    for before, after in itertools.pairwise(waits[:-1]):  # the last may be cut short
        assert 5 * 0.8 / 1.2 <= after / before <= 5 * 1.2 / 0.8
    assert T0 + timedelta(hours=20) <= now <= T0 + WINDOW  # the last comes within the day
    assert next_attempt(3, T0, T0 + WINDOW, 5.0, rng) is None  # none after the day


def test_a_retry_after_is_honoured_within_the_day() -> None:
    rng = random.Random(1)
    when = next_attempt(1, T0, T0, 5.0, rng, retry_after=600)
    assert when == T0 + timedelta(seconds=600)
    assert next_attempt(1, T0, T0, 5.0, rng, retry_after=10**9) == T0 + WINDOW


def test_the_kinds_a_webhook_takes() -> None:
    assert [k.value for k in payloads.WEBHOOK_KINDS] == list(get_args(WebhookEvent))
    assert set(payloads.OPERATOR_KINDS) == {Kind.ESCALATION_OPENED}
    assert Kind.MESSAGE_AUTHENTICATED not in payloads.WEBHOOK_KINDS


SECRET_BITS = {"value", "subject", "body", "text", "html", "answer", "url", "params", "raw"}


@pytest.mark.parametrize("kind", payloads.WEBHOOK_KINDS)
def test_payloads_keep_ids_and_summaries_never_secrets(kind: Kind) -> None:
    payload = {name: "secret-482913" for name in SECRET_BITS} | {
        "id": "01J00000000000000000000000",
        "codes": [{"value": "482913"}],
        "links": [{"url": "https://x.example/magic"}],
        "media": [],
        "recipients": [{"address": "a@b.example", "status": "sent"}],
    }
    data = payloads.data(kind, "acme", payload)
    assert next(iter(data)) == "project_id" and data["project_id"] == "acme"
    assert "secret-482913" not in json.dumps(data) and "482913" not in json.dumps(data)
    assert not SECRET_BITS & set(data) and "codes" not in data and "links" not in data
    body = json.loads(payloads.body(kind, "acme", payload, T0))
    assert body == {"type": kind.value, "timestamp": "2030-01-01T00:00:00Z", "data": data}


def test_counts_stand_for_lists() -> None:
    data = payloads.data(Kind.SMS_RECEIVED, "acme", {"id": "S", "codes": [{}, {}], "links": []})
    assert data == {"project_id": "acme", "id": "S", "code_count": 2, "link_count": 0,
                    "media_count": 0}  # fmt: skip


def test_urls_are_read_into_what_to_connect_to() -> None:
    plain = targets.parse("https://Hooks.Example/in?a=1&b=2")
    assert (plain.scheme, plain.host, plain.port, plain.path) == ("https", "hooks.example", 443,
                                                                 "/in?a=1&b=2")  # fmt: skip
    assert plain.host_header() == "hooks.example" and plain.literal is None
    address = ipaddress.ip_address("203.0.113.7")
    assert plain.at(address) == "https://203.0.113.7:443/in?a=1&b=2"
    idn = targets.parse("http://bücher.example:8080")
    assert (idn.host, idn.path, idn.host_header()) == ("xn--bcher-kva.example", "/",
                                                       "xn--bcher-kva.example:8080")  # fmt: skip
    six = targets.parse("http://[2606:4700::1111]:81/x")
    assert six.literal == ipaddress.ip_address("2606:4700::1111")
    assert six.host_header() == "[2606:4700::1111]:81"
    assert six.at(six.literal) == "http://[2606:4700::1111]:81/x"
    assert targets.parse("http://2130706433/").literal == ipaddress.ip_address("127.0.0.1")
    with pytest.raises(ValidationFailed, match="http:// or https://"):
        targets.parse("javascript:alert(1)")


@pytest.mark.parametrize(
    ("address", "refused"),
    [
        ("8.8.8.8", None),
        ("2606:4700::1111", None),
        ("127.0.0.53", "a loopback address"),
        ("169.254.169.254", "a cloud metadata address"),
        ("100.100.100.200", "a cloud metadata address"),
        ("fd00::5", "a private address"),
        ("::ffff:10.0.0.1", "a private address inside an IPv6 address"),
        ("2001:0:4136:e378:8000:63bf:f5ff:fffe", "a private address inside an IPv6 address"),
        ("ff02::1", "a multicast address"),
        ("192.0.2.1", "a private address"),  # documentation (TEST-NET-1)
    ],
)
def test_which_addresses_are_refused(address: str, refused: str | None) -> None:
    assert targets.why_refused(ipaddress.ip_address(address)) == refused


def test_signatures_and_secrets() -> None:
    secret, key = signing.new_secret()
    assert signing.secret_key(secret) == key and len(key) == 32
    for bad in ("whsec_!!!", "key_" + secret[6:], "whsec_" + "QUJD"):
        with pytest.raises(ValidationFailed):
            signing.secret_key(bad)
    headers = signing.headers(b"k" * 32, "msg_1", 1_900_000_000, b"{}")
    assert headers["webhook-signature"].startswith("v1,")
    assert headers["webhook-timestamp"] == "1900000000"
