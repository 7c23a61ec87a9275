"""The one MIME reader: header decoding, bodies, attachments, limits; never raises."""

from __future__ import annotations

import time
from email.header import Header
from email.message import EmailMessage

from hypothesis import given
from hypothesis import strategies as st

from agentid.mime import Limits
from agentid.mime import decode_header
from agentid.mime import decode_words
from agentid.mime import read


def test_encoded_words_decoded_and_joined() -> None:
    raw = (
        b"Subject: =?utf-8?q?Caf=C3=A9?= =?utf-8?b?IGNyw6htZQ==?= and =?iso-8859-1?q?na=EFve?=\r\n"
        b"\r\nbody\r\n"
    )
    assert read(raw).header("subject") == "Café crème and naïve"


def test_folded_lines_unfolded() -> None:
    raw = b"Subject: a long\r\n subject\r\n\tfolded\r\nX-Other: y\r\n\r\nbody\r\n"
    mime = read(raw)
    assert mime.header("subject") == "a long subject\tfolded"
    assert mime.headers == [("Subject", "a long subject\tfolded"), ("X-Other", "y")]


def test_bad_charsets_never_raise() -> None:
    raw = (
        b"Subject: =?x-klingon?q?qapla=FF?= caf\xe9\r\nFrom: J\xc3\xb6rg <j@example.org>\r\n"
        b"Content-Type: text/plain; charset=x-unknown\r\n\r\nna\xefve\r\n"
    )
    mime = read(raw)
    assert mime.header("subject") == "qapla\ufffd café"  # unknown label: UTF-8; raw: Latin-1
    assert mime.header("from") == "Jörg <j@example.org>"  # raw UTF-8 kept as UTF-8
    assert mime.text is not None and mime.text.startswith("na")


def test_bad_encoded_word_kept_as_written() -> None:
    assert decode_words("=?utf-8?b?***?= x") == "=?utf-8?b?***?= x"


@given(
    st.text(st.characters(blacklist_categories=("Cc", "Cs", "Zs", "Zl", "Zp")), max_size=60),
    st.sampled_from(["utf-8", "iso-8859-1", "koi8-r"]),
)
def test_encoded_words_round_trip(text: str, charset: str) -> None:
    try:
        text.encode(charset)
    except UnicodeEncodeError:
        return
    encoded = Header(text, charset).encode(maxlinelen=10_000)
    assert decode_header(encoded) == text.strip()


def test_bodies_attachments_and_content_ids() -> None:
    msg = EmailMessage()
    msg["Subject"] = "parts"
    msg.set_content("plain ✓")
    msg.add_alternative('<p>html <img src="cid:logo"></p>', subtype="html")
    msg.get_payload()[1].add_related(
        b"\x89PNG", maintype="image", subtype="png", cid="<logo>", filename="logo.png"
    )
    msg.add_attachment(b"%PDF", maintype="application", subtype="pdf", filename="a.pdf")
    mime = read(msg.as_bytes())
    assert mime.text is not None and mime.text.strip() == "plain ✓"
    assert mime.html is not None and "cid:logo" in mime.html
    assert [
        (a.index, a.filename, a.content_type, a.content_id, a.data) for a in mime.attachments
    ] == [
        (0, "logo.png", "image/png", "logo", b"\x89PNG"),
        (1, "a.pdf", "application/pdf", None, b"%PDF"),
    ]
    assert mime.problems == []


def test_broken_part_read_leniently() -> None:
    raw = (
        b"Subject: bad base64\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
        b"--b\r\nContent-Type: text/plain\r\n\r\nYour code is 123456\r\n"
        b"--b\r\nContent-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        b"!!!not*base64===\r\n--b--\r\n"
    )
    mime = read(raw)
    assert mime.text is not None and "123456" in mime.text
    assert len(mime.attachments) == 1


def _nested(depth: int) -> bytes:
    head = b"".join(
        f'Content-Type: multipart/mixed; boundary="b{i}"\r\n\r\n--b{i}\r\n'.encode()
        for i in range(depth)
    )
    return b"Subject: deep\r\n" + head + b"Content-Type: text/plain\r\n\r\ndeep\r\n"


def test_limits_flag_and_keep_what_fits() -> None:
    limits = Limits(header_bytes=1024, parts=10, html_bytes=100, depth=20)
    many = b"Content-Type: multipart/mixed; boundary=b\r\n\r\n" + b"".join(
        b"--b\r\nContent-Type: image/png\r\n\r\nx\r\n" for _ in range(50)
    )
    mime = read(b"Subject: many\r\n" + many + b"--b--\r\n", limits)
    assert len(mime.attachments) == 10 and mime.problems == ["more than 10 MIME parts"]
    mime = read(b"Subject: " + b"x" * 5000 + b"\r\n\r\nbody", limits)
    assert mime.problems == ["header section over 1 KiB"]
    assert mime.header("subject") == "x" * 1015
    html = b"Content-Type: text/html\r\n\r\n<p>" + b"y" * 500 + b"</p>\r\n"
    mime = read(html, limits)
    assert mime.html is not None and len(mime.html) == 100
    assert mime.problems == ["HTML over 0 MiB"] or mime.problems[0].startswith("HTML over")
    mime = read(_nested(400) + b"x" * 4096, limits)
    assert mime.problems and "nesting deeper than 20" in mime.problems[0]
    assert mime.header("subject") == "deep"


def _cost(raw: bytes) -> float:
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        read(raw)
        best = min(best, time.perf_counter() - started)
    return best


def test_hostile_headers_cost_grows_linearly() -> None:
    def words(n: int) -> bytes:
        return b"Subject: " + b" ".join([b"=?utf-8?b?w6k=?="] * n) + b"\r\n\r\nbody\r\n"

    small, large = _cost(words(600)), _cost(words(6000))  # ~10 KB and ~100 KB
    assert large <= 20 * max(small, 1e-4)
    assert large < 0.25


def test_never_raises_on_garbage() -> None:
    for raw in (b"", b"\x00" * 100, b"\r\n", b":\r\n\r\n", b"Content-Type: multipart/x\r\n\r\n--"):
        read(raw)
