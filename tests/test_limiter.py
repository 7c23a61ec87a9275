"""The token limiter's arithmetic (live: tests/web/test_sessions.py for sign-ins, tests/test_auth.py
for the API)."""

from __future__ import annotations

from agentid.limiter import NETWORK_SHARE
from agentid.limiter import TokenLimiter
from agentid.limiter import client_of
from agentid.limiter import network_of


def test_an_ipv6_client_is_its_64_and_an_ipv4_one_its_address() -> None:
    assert client_of("2001:db8::1") == client_of("2001:db8::ffff:1") == "2001:db8::/64"
    assert client_of("2001:db8:0:1::1") == "2001:db8:0:1::/64"
    assert client_of("::ffff:192.0.2.7") == client_of("192.0.2.7") == "192.0.2.7"
    assert client_of("unknown") == "unknown"
    # and its network: an IPv6 /48, an IPv4 /24
    assert network_of("2001:db8:0:ffff::1") == network_of("2001:db8::1") == "2001:db8::/48"
    assert network_of("::ffff:192.0.2.7") == network_of("192.0.2.200") == "192.0.2.0/24"
    assert network_of("unknown") == "unknown"


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


def test_many_clients_of_one_network_share_its_attempts() -> None:
    """A guesser holding a /48 moves to a new /64 whenever one is limited: the /48 as a
    whole gets ``NETWORK_SHARE`` clients' worth, then every /64 of it waits."""
    limiter = TokenLimiter(attempts=2)
    for n in range(NETWORK_SHARE):
        for host in (1, 2):
            assert limiter.attempt(f"2001:db8:0:{n:x}::{host}") is None
        assert limiter.attempt(f"2001:db8:0:{n:x}::3") is not None  # this /64 is done
    fresh = f"2001:db8:0:{NETWORK_SHARE:x}::1"  # a /64 not seen yet, of the same /48
    wait = limiter.attempt(fresh)
    assert wait is not None and wait >= 1
    assert limiter.attempt("2001:db8:1::1") is None  # the next /48 is someone else
    limiter.succeeded("2001:db8:0:0::1")  # a right token forgives its attempt in both
    assert limiter.attempt(fresh) is None


def test_ipv4_addresses_of_one_24_share_its_attempts() -> None:
    limiter = TokenLimiter(attempts=1)
    for host in range(NETWORK_SHARE):
        assert limiter.attempt(f"198.51.100.{host}") is None
    assert limiter.attempt(f"198.51.100.{NETWORK_SHARE}") is not None
    assert limiter.attempt("198.51.101.1") is None
