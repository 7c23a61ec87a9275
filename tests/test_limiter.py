"""The token limiter's arithmetic (live: tests/web/test_sessions.py for sign-ins, tests/test_auth.py
for the API)."""

from __future__ import annotations

from agentid.limiter import TokenLimiter
from agentid.limiter import client_of


def test_an_ipv6_client_is_its_64_and_an_ipv4_one_its_address() -> None:
    assert client_of("2001:db8::1") == client_of("2001:db8::ffff:1") == "2001:db8::/64"
    assert client_of("2001:db8:0:1::1") == "2001:db8:0:1::/64"
    assert client_of("::ffff:192.0.2.7") == client_of("192.0.2.7") == "192.0.2.7"
    assert client_of("unknown") == "unknown"


def test_addresses_of_one_64_share_their_attempts() -> None:
    limiter = TokenLimiter(attempts=3)
    for host in ("2001:db8::1", "2001:db8::2", "2001:db8::3"):
        assert limiter.attempt(host) is None
    wait = limiter.attempt("2001:db8::dead:beef")  # another address, the same network
    assert wait is not None and wait >= 1
    assert limiter.attempt("2001:db8:0:1::1") is None  # the next /64 is someone else
    assert limiter.attempt("192.0.2.1") is None


def test_a_success_forgives_one_attempt_and_a_refused_one_is_not_counted() -> None:
    limiter = TokenLimiter(attempts=2)
    assert limiter.attempt("192.0.2.1") is None
    limiter.succeeded("192.0.2.1")
    assert limiter.attempt("192.0.2.1") is None
    assert limiter.attempt("192.0.2.1") is None
    assert limiter.attempt("192.0.2.1") is not None  # two counted: refused
    assert limiter.attempt("192.0.2.1") is not None  # a refusal counts nothing more


def test_the_oldest_client_is_forgotten_past_the_cap() -> None:
    limiter = TokenLimiter(attempts=1, clients=2)
    for host in ("192.0.2.1", "192.0.2.2", "192.0.2.3"):
        assert limiter.attempt(host) is None
    assert limiter.attempt("192.0.2.1") is None  # forgotten: it starts again
    assert limiter.attempt("192.0.2.3") is not None
