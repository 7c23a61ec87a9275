"""One MIME reader: raw bytes in, headers, text, html and attachments out, each read once.

Every string it returns can be stored and served as JSON: no NUL, no lone surrogate.

The header section is read here (ordered, unfolded, RFC 2047 words decoded, bad charsets
read as Latin-1); the body tree is read by ``fast-mail-parser`` (Rust, about ten times
the standard library's speed and iterative on deep nesting). A message it refuses (bad
base64, nesting it will not follow) is read again by the standard library's lenient
``compat32`` parser, so one broken part does not hide the rest. Never raises.

Work per message is bounded by ``Limits``: a message over one is still read as far as
the limit allows, and ``problems`` says which limit it hit.
"""

from __future__ import annotations

import binascii
import codecs
import email
import email.policy
import re
from dataclasses import dataclass
from dataclasses import field
from email.message import Message

import fast_mail_parser

MiB = 1024 * 1024
MAX_HEADER_VALUE = 8192  # characters of one header value kept
_MIME_HEADERS = frozenset({b"content-type", b"content-transfer-encoding", b"mime-version"})
_ENCODED_WORD = re.compile(r"=\?([^?\s]{1,75})\?([bBqQ])\?([^?\s]*)\?=")
_Q_HEX = re.compile(rb"=([0-9A-Fa-f]{2})")
_HEADER_NAME = re.compile(rb"[!-9;-~]+")
_FIELD_SPLIT = re.compile(rb"\r?\n(?![ \t])")  # between header fields, not inside folds


@dataclass(frozen=True, slots=True)
class Limits:
    header_bytes: int = 256 * 1024
    parts: int = 1000
    html_bytes: int = 2 * MiB
    depth: int = 256

    def __reduce__(self) -> tuple[type[Limits], tuple[int, int, int, int]]:
        # sent to the parse workers; compiled by mypyc, a frozen dataclass does not
        # unpickle field by field
        return (Limits, (self.header_bytes, self.parts, self.html_bytes, self.depth))


DEFAULT_LIMITS = Limits()


@dataclass(slots=True)
class Attachment:
    index: int
    filename: str | None
    content_type: str
    content_id: str | None
    data: bytes

    @property
    def size(self) -> int:
        return len(self.data)


@dataclass(slots=True)
class Mime:
    headers: list[tuple[str, str]] = field(default_factory=list)
    text: str | None = None
    html: str | None = None
    attachments: list[Attachment] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # limits hit, parts not readable
    no_header_section: bool = False
    _by_name: dict[str, list[str]] = field(default_factory=dict)

    def add_header(self, name: str, value: str) -> None:
        self.headers.append((name, value))
        self._by_name.setdefault(name.lower(), []).append(value)

    def header(self, name: str) -> str | None:
        values = self._by_name.get(name.lower())
        return values[0] if values else None

    def all(self, name: str) -> list[str]:
        return list(self._by_name.get(name.lower(), ()))


def read(raw: bytes, limits: Limits = DEFAULT_LIMITS) -> Mime:
    """Read ``raw`` once; never raises."""
    out = Mime()
    try:
        body_at, mime_headers = _read_headers(raw, out, limits)
    except Exception as exc:  # defensive: the scanner itself is plain code
        out.problems.append(f"headers unreadable: {type(exc).__name__}")
        body_at, mime_headers = len(raw), b""
    # The body tree needs only the MIME headers of the top level: the rest of a possibly
    # huge header section is not read twice.
    top = mime_headers + b"\r\n" + raw[body_at:]
    if _nesting_markers(top) > limits.depth and _depth(top) > limits.depth:
        out.problems.append(f"MIME nesting deeper than {limits.depth}: body not read")
        return out
    try:
        _read_body_fast(top, out, limits)
    except fast_mail_parser.ParseError as exc:
        out.problems.append(f"read leniently: {str(exc)[:120]}")
        out.text = out.html = None
        out.attachments = []
        try:
            _read_body_lenient(top, out, limits)
        except (RecursionError, Exception) as exc2:  # the last resort: headers only
            out.problems.append(f"body unreadable: {type(exc2).__name__}")
    return out


# -- header section -------------------------------------------------------------------


def _header_end(raw: bytes) -> tuple[int, int]:
    """(end of the header lines, start of the body)."""
    if raw.startswith((b"\r\n", b"\n")):
        return 0, 2 if raw.startswith(b"\r\n") else 1
    crlf, lf = raw.find(b"\r\n\r\n"), raw.find(b"\n\n")
    if crlf != -1 and (lf == -1 or crlf <= lf):
        return crlf, crlf + 4
    if lf != -1:
        return lf, lf + 2
    return len(raw), len(raw)


def _read_headers(raw: bytes, out: Mime, limits: Limits) -> tuple[int, bytes]:
    """Fill ``out.headers``; return where the body starts and the top-level MIME headers."""
    end, body_at = _header_end(raw)
    block = raw[:end]
    if len(block) > limits.header_bytes:
        out.problems.append(f"header section over {limits.header_bytes // 1024} KiB")
        block = block[: limits.header_bytes]
    mime: list[bytes] = []
    offset = 0
    for n, folded in enumerate(_FIELD_SPLIT.split(block)):
        name, colon, value = folded.partition(b":")
        if not colon or not _HEADER_NAME.fullmatch(name):
            # Not a header line: the header section ended early (no blank line after it).
            out.no_header_section = n == 0
            body_at = block.find(folded, offset)
            break
        offset += len(folded)
        if name.lower() in _MIME_HEADERS:
            mime.append(folded)
        out.add_header(_text(name), clean(decode_header(_text(value))))
    return min(body_at, len(raw)), b"\r\n".join(mime) + (b"\r\n" if mime else b"")


def _text(value: bytes) -> str:
    """Header bytes as text: UTF-8 when they are, else Latin-1 (never fails)."""
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        return value.decode("latin-1")


def decode_header(value: str) -> str:
    """Unfold a header value and decode its RFC 2047 encoded words."""
    return decode_words(value[: MAX_HEADER_VALUE * 4].replace("\r\n", "").replace("\n", "").strip())


def decode_words(value: str) -> str:
    """Decode RFC 2047 encoded words (linear time; a bad word is kept as written)."""
    if "=?" not in value:
        return value[:MAX_HEADER_VALUE]
    parts: list[str] = []
    pos, after_word = 0, False
    for m in _ENCODED_WORD.finditer(value, 0, MAX_HEADER_VALUE * 4):
        gap = value[pos : m.start()]
        if not (after_word and not gap.strip(" \t")):
            parts.append(gap)  # whitespace between two encoded words is dropped
        decoded = _decode_word(m.group(1), m.group(2), m.group(3))
        parts.append(m.group(0) if decoded is None else decoded)
        pos, after_word = m.end(), True
    parts.append(value[pos:])
    return "".join(parts)[:MAX_HEADER_VALUE]


def _decode_word(charset: str, encoding: str, text: str) -> str | None:
    try:
        if encoding in "bB":
            data = binascii.a2b_base64(text + "=" * (-len(text) % 4), strict_mode=True)
        else:
            spaced = text.encode("ascii").replace(b"_", b" ")  # before =5F becomes "_"
            data = _Q_HEX.sub(lambda m: bytes([int(m.group(1), 16)]), spaced)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        return None
    return decode_bytes(data, charset.split("*", 1)[0])


def decode_bytes(data: bytes, charset: str | None) -> str:
    """Bytes in a declared charset; unknown labels fall back to UTF-8, never raising."""
    try:
        codec = codecs.lookup(charset or "utf-8").name
    except LookupError:
        codec = "utf-8"
    try:
        return data.decode(codec, errors="replace")
    except Exception:  # a codec that cannot decode at all (e.g. one for text only)
        return data.decode("utf-8", errors="replace")


def clean(value: str) -> str:
    """Text safe to store and to serve as JSON: lone surrogates (bytes a parser kept
    undecoded) are read as UTF-8 or become U+FFFD, and NUL (which PostgreSQL cannot hold in
    text or jsonb) becomes U+FFFD too."""
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            try:
                data = value.encode("utf-8", "surrogateescape")
            except UnicodeEncodeError:  # surrogates that were never bytes
                data = value.encode("utf-8", "replace")
            value = data.decode("utf-8", "replace")
    return value.replace("\x00", "\ufffd") if "\x00" in value else value


# -- body tree --------------------------------------------------------------------------


def _nesting_markers(data: bytes) -> int:
    """An upper bound on the nesting depth, from a cheap count."""
    if len(data) < 4096:
        return 0
    low = data.lower()
    return low.count(b"multipart/") + low.count(b"message/rfc822")


def _depth(data: bytes) -> int:
    try:
        tree = fast_mail_parser.parse_email_tree(data, mode="metadata")
    except fast_mail_parser.ParseError:
        return 1 << 30  # deeper than the Rust parser follows
    deepest, stack = 0, [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in node.children)
    return deepest


def _read_body_fast(data: bytes, out: Mime, limits: Limits) -> None:
    mail = fast_mail_parser.parse_email(data)
    _set_bodies(out, mail.text_plain, mail.text_html, limits)
    room = limits.parts - len(mail.text_plain) - len(mail.text_html)
    for a in mail.attachments:
        if len(out.attachments) >= room:
            break
        out.attachments.append(
            Attachment(
                index=len(out.attachments),
                filename=clean(decode_words(a.filename)) if a.filename else None,
                content_type=clean((a.mimetype or "application/octet-stream").lower())[:255],
                content_id=clean((a.content_id or "").strip("<> ")) or None,
                data=a.content,
            )
        )
    if len(mail.text_plain) + len(mail.text_html) + len(mail.attachments) > limits.parts:
        out.problems.append(f"more than {limits.parts} MIME parts")


def _set_bodies(out: Mime, texts: list[str], htmls: list[str], limits: Limits) -> None:
    if texts:
        out.text = clean("\n\n".join(texts).replace("\r\n", "\n"))
    if htmls:
        html = clean("\n".join(htmls).replace("\r\n", "\n"))
        if len(html) > limits.html_bytes:
            out.problems.append(f"HTML over {limits.html_bytes // MiB} MiB")
            html = html[: limits.html_bytes]
        out.html = html


def _read_body_lenient(data: bytes, out: Mime, limits: Limits) -> None:
    """The standard library's reading, for what the fast parser refuses."""
    msg = email.message_from_bytes(data, policy=email.policy.compat32)
    texts: list[str] = []
    htmls: list[str] = []
    stack: list[tuple[Message, int]] = [(msg, 1)]
    seen = 0
    while stack:
        part, depth = stack.pop()
        seen += 1
        if seen > limits.parts:
            out.problems.append(f"more than {limits.parts} MIME parts")
            break
        payload = part.get_payload()
        if isinstance(payload, list):
            if depth < limits.depth:
                stack.extend((p, depth + 1) for p in reversed(payload) if isinstance(p, Message))
            continue
        ctype = part.get_content_type()
        raw = part.get_payload(decode=True)
        content = raw if isinstance(raw, bytes) else b""
        inline = part.get_content_disposition() != "attachment"
        if ctype in ("text/plain", "text/html") and inline:
            text = decode_bytes(content, part.get_content_charset())
            (texts if ctype == "text/plain" else htmls).append(text)
            continue
        filename = part.get_filename()
        out.attachments.append(
            Attachment(
                index=len(out.attachments),
                filename=clean(decode_words(filename)) if isinstance(filename, str) else None,
                content_type=clean(ctype)[:255],
                content_id=clean(str(part.get("content-id") or "").strip("<> ")) or None,
                data=content,
            )
        )
    _set_bodies(out, texts, htmls, limits)
