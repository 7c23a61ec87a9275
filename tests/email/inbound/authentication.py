"""What inbound authentication tests share: keys and zones served by NSD on loopback, mail
signed with dkimpy (DKIM and ARC) and sent to a running agentid from a chosen loopback
address (127.0.0.2 is allowed by the site's SPF record, 127.0.0.3 is not)."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiosmtplib
import dkim

from agentid.crypto import SecretBox
from agentid.email import dkim as dkim_keys
from tests.conftest import Service
from tests.dns.nameserver import nsd
from tests.dns.nameserver import write_zone
from tests.service import HOST

SITE, OTHER, FORWARDER = "example.com", "example.net", "example.org"
ALLOWED, DISALLOWED, RELAY = "127.0.0.2", "127.0.0.3", "127.0.0.4"
SELECTOR = b"s1"


@dataclass(frozen=True)
class Key:
    private: bytes  # PEM
    record: str  # the TXT value: v=DKIM1; k=rsa; p=...


_BOX = SecretBox("inbound authentication tests")


def new_key() -> Key:
    """A key as agentid makes one for a hosted domain (PKCS#8 PEM, SubjectPublicKeyInfo)."""
    made = dkim_keys.new_key(_BOX)
    private = dkim_keys.private_key_pem(_BOX, made.sealed_private_key)
    return Key(private, dkim_keys.txt_value(made.public_key_b64))


def txt(value: str) -> str:
    """A TXT record's data as zone-file strings of at most 255 characters."""
    return " ".join(f'"{value[i : i + 200]}"' for i in range(0, len(value), 200))


KEYS = {SITE: new_key(), OTHER: new_key(), FORWARDER: new_key()}


def zones(directory: Path) -> list[str]:
    """The site publishes SPF (127.0.0.2 only), its key and DMARC p=reject; the other
    domain SPF (127.0.0.3) and a key but no DMARC; the forwarder its ARC key."""
    write_zone(
        directory,
        SITE,
        f'@ IN TXT "v=spf1 ip4:{ALLOWED} -all"\n'
        f"s1._domainkey IN TXT {txt(KEYS[SITE].record)}\n"
        '_dmarc IN TXT "v=DMARC1; p=reject"\n'
        f'mail IN TXT "v=spf1 ip4:{ALLOWED} -all"\n',
    )
    write_zone(
        directory,
        OTHER,
        f'@ IN TXT "v=spf1 ip4:{DISALLOWED} -all"\n'
        f"s1._domainkey IN TXT {txt(KEYS[OTHER].record)}\n",
    )
    write_zone(
        directory,
        FORWARDER,
        f'@ IN TXT "v=spf1 ip4:{RELAY} -all"\ns1._domainkey IN TXT {txt(KEYS[FORWARDER].record)}\n',
    )
    return [SITE, OTHER, FORWARDER]


@contextlib.contextmanager
def name_server(directory: Path) -> Iterator[int]:
    directory.mkdir(parents=True, exist_ok=True)
    with nsd(directory, zones(directory)) as port:
        yield port


@contextlib.contextmanager
def silent_server() -> Iterator[int]:
    """A UDP port that takes questions and never answers: every lookup times out."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((HOST, 0))
        yield int(s.getsockname()[1])


def mail(to: str, sender: str, subject: str, body: str, extra: str = "") -> bytes:
    return (
        f"From: {sender}\r\nTo: {to}\r\nSubject: {subject}\r\n"
        f"Message-ID: <{abs(hash((to, subject, body)))}@{sender.rpartition('@')[2]}>\r\n"
        f"{extra}MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
    ).encode()


def signed(raw: bytes, domain: str) -> bytes:
    header = dkim.sign(
        raw,
        SELECTOR,
        domain.encode(),
        KEYS[domain].private,
        include_headers=[b"from", b"to", b"subject", b"message-id"],
    )
    return bytes(header) + raw


def sealed(raw: bytes, sealer: str = FORWARDER) -> bytes:
    """``raw`` as a forwarder passes it on: its own verdict, then an ARC set over it."""
    verdict = (
        f"Authentication-Results: {sealer}; dkim=pass header.d={SITE}; "
        f"spf=pass smtp.mailfrom={SITE}; dmarc=pass header.from={SITE}\r\n"
    ).encode()
    with_verdict = verdict + raw
    headers = dkim.arc_sign(
        with_verdict,
        SELECTOR,
        sealer.encode(),
        KEYS[sealer].private,
        sealer.encode(),
        include_headers=[b"from", b"to", b"subject"],
    )
    return b"".join(headers) + with_verdict


async def send_from(
    service: Service, source: str, rcpt: str, raw: bytes, mail_from: str, helo: str = "mail"
) -> None:
    smtp = aiosmtplib.SMTP(
        hostname=HOST,
        port=service.smtp_port,
        start_tls=False,
        timeout=15,
        source_address=(source, 0),
        local_hostname=helo,
    )
    async with smtp:
        errors, _ = await smtp.sendmail(mail_from, [rcpt], raw)
    assert not errors, errors


async def verdict_of(service: Service, project: str, mid: str, wait: float = 10) -> dict[str, Any]:
    """The message once its verdict is in."""
    for _ in range(int(wait / 0.05)):
        r = await service.http.get(f"/projects/{project}/email/messages/{mid}")
        if r.status_code == 200 and r.json()["auth_results"] is not None:
            return dict(r.json())
        await asyncio.sleep(0.05)
    raise AssertionError(f"no verdict on {mid}")


def unproven(verdict: dict[str, Any]) -> bool:
    """A verdict on mail from a domain no test name server serves: nothing passed, the
    claims of the sender's own Authentication-Results headers notwithstanding."""
    results = [verdict["spf"], verdict["dmarc"], *(s["result"] for s in verdict["dkim"])]
    return "pass" not in results and verdict["authenticated"] is False
