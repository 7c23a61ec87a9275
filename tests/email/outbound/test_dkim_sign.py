"""DkimSigner on chosen messages: dkimpy verifies what it signs against the provisioned TXT
record, and stops verifying when a signed part changes."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable

import dkim as dkimpy
import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519
from dkim.util import parse_tag_value

from agentid.email.outbound.dkim_sign import DkimSigner
from agentid.email.outbound.dkim_sign import relaxed_body
from agentid.email.outbound.dkim_sign import to_crlf
from agentid.errors import ValidationFailed
from tests.email.outbound.keys import SELECTOR
from tests.email.outbound.keys import provisioned

MESSAGE = (
    b"Received: from relay.example by mx.example; Mon, 1 Jan 2024 00:00:00 +0000\r\n"
    b"From: Agent <signup@acme.test>\r\n"
    b"To: someone@example.com\r\n"
    b"Subject: Your code\r\n"
    b"Date: Mon, 1 Jan 2024 00:00:00 +0000\r\n"
    b"Message-ID: <1@acme.test>\r\n"
    b"MIME-Version: 1.0\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\n"
    b"X-Mailer: agentid\r\n"
    b"\r\n"
    b"Hi.\r\n\r\nWe lost the game. Are you hungry yet?\r\n\r\nJoe.\r\n"
)


def verifies(message: bytes, domain: str = "acme.test") -> bool:
    return bool(dkimpy.verify(message, dnsfunc=provisioned(domain).dnsfunc))


def signature_field(signed: bytes) -> bytes:
    """The DKIM-Signature field at the top of ``signed``, with its folds and final CRLF."""
    field = re.match(rb"DKIM-Signature:.*?\r\n(?![ \t])", signed, re.S)
    assert field is not None
    return field.group(0)


def signature_tags(signed: bytes) -> dict[bytes, bytes]:
    """Its tags, whitespace (folds) taken out of the values."""
    value = signature_field(signed)[len(b"DKIM-Signature:") :]
    return {k: re.sub(rb"\s+", b"", v) for k, v in parse_tag_value(value).items()}


def test_signature_verifies_with_the_tags_asked_for() -> None:
    signed = provisioned().signer.sign(MESSAGE, timestamp=1_700_000_000)
    assert verifies(signed)
    assert signed.endswith(MESSAGE)
    tags = signature_tags(signed)
    assert tags[b"a"] == b"rsa-sha256"
    assert tags[b"c"] == b"relaxed/relaxed"
    assert tags[b"d"] == b"acme.test"
    assert tags[b"s"] == SELECTOR.encode()
    assert tags[b"t"] == b"1700000000"
    # those present, in order, From once more; Received and X-Mailer not signed
    assert tags[b"h"] == b"from:to:subject:date:message-id:mime-version:content-type:from"
    assert tags[b"bh"] == b"2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8="  # RFC 6376 A.2


def test_folded_to_78_columns_with_crlf() -> None:
    signed = provisioned().signer.sign(MESSAGE)
    field = signature_field(signed)
    assert signed[len(field) :] == MESSAGE
    lines = field[:-2].split(b"\r\n")
    assert len(lines) > 1
    assert all(len(line) <= 78 for line in lines)
    assert all(line[:1] == b" " for line in lines[1:])
    assert b"\n" not in field.replace(b"\r\n", b"")


@pytest.mark.parametrize(
    "tamper",
    [
        lambda m: m + b"P.S.\r\n",  # body appended to
        lambda m: m.replace(b"hungry", b"angry"),  # body changed
        lambda m: m.replace(b"Your code", b"Your cod3"),  # signed field changed
        lambda m: m.replace(b"To: someone", b"To: someone-else"),
        lambda m: m.replace(b"X-Mailer: agentid\r\n", b"X-Mailer: agentid\r\nFrom: x@evil\r\n"),
        lambda m: b"From: boss@acme.test\r\n" + m,  # a second From above the signature
    ],
)
def test_a_tampered_message_fails(tamper: Callable[[bytes], bytes]) -> None:
    signed = provisioned().signer.sign(MESSAGE)
    assert verifies(signed)
    changed = tamper(signed)
    assert changed != signed
    assert not verifies(changed)


def test_unsigned_changes_and_whitespace_still_verify() -> None:
    signed = provisioned().signer.sign(MESSAGE)
    assert verifies(signed.replace(b"X-Mailer: agentid", b"X-Mailer: other"))
    assert verifies(signed.replace(b"Subject: Your code", b"SUBJECT:\r\n  Your   code  "))
    assert verifies(signed.replace(b"Joe.\r\n", b"Joe.  \r\n\r\n\r\n"))
    # only From is oversigned: a field that was absent (here Cc) can be added (RFC 6376 8.15)
    assert verifies(signed.replace(b"Subject:", b"Cc: added@example.com\r\nSubject:"))


def test_another_domain_or_selector_key_does_not_verify() -> None:
    signed = provisioned().signer.sign(MESSAGE)
    other = provisioned("other.test")
    assert not dkimpy.verify(signed, dnsfunc=lambda name, timeout=5: other.dnsfunc(
        name.replace(b"acme.test", b"other.test")))  # fmt: skip


def test_lf_input_is_signed_as_crlf() -> None:
    lf = MESSAGE.replace(b"\r\n", b"\n").rstrip(b"\n")  # and no final line end
    signed = provisioned().signer.sign(lf)
    assert signed.endswith(MESSAGE)
    assert verifies(signed)
    assert to_crlf(b"a\rb\nc\r\nd") == b"a\r\nb\r\nc\r\nd\r\n"
    assert to_crlf(b"") == b""


@pytest.mark.parametrize(
    "tail",
    [b"", b"\r\n", b"\r\n\r\n\r\n", b"\r\n \t \r\n\r\n", b"\r\nx", b"\r\n\r\n  x  \t\r\n\r\n"],
)
def test_empty_and_blank_bodies(tail: bytes) -> None:
    head = b"From: a@acme.test\r\nSubject: empty\r\n"
    signed = provisioned().signer.sign(head + tail)
    assert verifies(signed)
    if not tail.strip():
        empty = b"47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="  # sha256 of nothing
        assert signature_tags(signed)[b"bh"] == empty


def test_relaxed_body() -> None:
    assert relaxed_body(b"") == b""
    assert relaxed_body(b"\r\n\r\n") == b""
    assert relaxed_body(b" a \t b\t\r\n  \r\n\r\n") == b" a b\r\n"
    assert relaxed_body(b"a\r\n\r\nb\r\n") == b"a\r\n\r\nb\r\n"


def test_idn_domain_signs_as_its_a_label() -> None:
    published = provisioned("xn--bcher-kva.test")
    signer = DkimSigner("Bücher.test", SELECTOR, published.pem)
    signed = signer.sign(MESSAGE)
    assert signature_tags(signed)[b"d"] == b"xn--bcher-kva.test"
    assert verifies(signed, "xn--bcher-kva.test")


@pytest.mark.parametrize(
    ("message", "reason"),
    [
        (b"To: b@example.com\r\n\r\nhi\r\n", "no From"),
        (b"\r\nFrom: a@acme.test\r\n", "no From"),  # all body
        (b" From: a@acme.test\r\n\r\n", "continuation"),
        (b"From: a@acme.test\r\nnot a field\r\n\r\n", "not a header field"),
        (b"From: a@acme.test\r\nSub ject: x\r\n\r\n", "not a header field"),
        (b"From: a@acme.test\r\nSubject: a\x0bb\r\n\r\n", "vertical tab"),
    ],
)
def test_unsignable_messages_are_refused(message: bytes, reason: str) -> None:
    with pytest.raises(ValidationFailed, match=reason):
        provisioned().signer.sign(message)


def test_control_characters_in_unsigned_fields_are_left_alone() -> None:
    message = MESSAGE.replace(b"X-Mailer: agentid", b"X-Mailer: a\x0cb")
    assert verifies(provisioned().signer.sign(message))


def test_bad_keys_and_names_are_refused() -> None:
    pem = provisioned().pem
    with pytest.raises(TypeError, match="RSA"):
        DkimSigner("acme.test", SELECTOR, ed25519.Ed25519PrivateKey.generate())  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="selector"):
        DkimSigner("acme.test", "bad; s=x", pem)
    with pytest.raises(ValueError, match="domain"):
        DkimSigner("acme .test", SELECTOR, pem)
    with pytest.raises(ValueError):
        DkimSigner("acme.test", SELECTOR, b"not a key")


def test_one_signer_shared_by_threads() -> None:
    signer, results = provisioned().signer, []
    lock = threading.Lock()

    def work(n: int) -> None:
        for i in range(10):
            signed = signer.sign(MESSAGE.replace(b"Your code", b"code %d-%d" % (n, i)))
            with lock:
                results.append(signed)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 40
    assert all(verifies(signed) for signed in results)


def test_default_timestamp_is_now() -> None:
    before = int(time.time())
    t = int(signature_tags(provisioned().signer.sign(MESSAGE))[b"t"])
    assert before <= t <= int(time.time())
