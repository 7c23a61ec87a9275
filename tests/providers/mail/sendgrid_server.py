"""A local SendGrid: ``POST /v3/mail/send`` as SendGrid's published v3 contract has it,
served by a real HTTP server on 127.0.0.1 (the OS picks the port) in a thread.

It answers as the contract says, in this order: 404/405 off the one route; 401 with
SendGrid's error body for a missing or wrong bearer key; whatever ``fail_next`` queued
(429 with its ``Retry-After``, 413, 5xx...); 413 over ``max_bytes``; 415 for a body that
is not UTF-8; 400 listing every error found in the JSON, each
``{"message", "field", "help"}``; and otherwise 202 with an ``X-Message-Id``, recording
the mail. ``delay`` holds each answer back (until the server stops).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import secrets
import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from dataclasses import field
from http.server import BaseHTTPRequestHandler
from http.server import ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs
from urllib.parse import quote
from urllib.parse import urlsplit

HOST = "127.0.0.1"
KEY = "SG.aB3-x_Y9.k3y/s3cr3t+Z=="  # what tests hand the server: "/", "+" and "=" to encode
ROUTE = "/v3/mail/send"
DOMAINS = "/v3/whitelabel/domains"
MAX_RECIPIENTS = 1000
RESERVED_HEADERS = frozenset(
    {
        *("x-sg-id", "x-sg-eid", "received", "dkim-signature", "content-type"),
        *("content-transfer-encoding", "to", "from", "subject", "reply-to", "cc", "bcc"),
    }
)
BAD_KEY = "The provided authorization grant is invalid, expired, or revoked"
HELP = "https://sendgrid.com/docs/API_Reference/Web_API_v3/Mail/errors.html#message."
_ADDRESS = re.compile(r"[^@\s]+@[^@\s]+")
_NO_SEPARATORS = re.compile(r"^[^;,\r\n]*$")
_DEFAULT_SAYS = {413: "The JSON payload you have included in your request is too large."}
_DEFAULT_SAYS |= {429: "too many requests", 500: "internal error", 503: "service unavailable"}

Answer = tuple[int, dict[str, str], bytes]


def _cname(host: str, data: str) -> dict[str, Any]:
    return {"valid": False, "type": "cname", "host": host, "data": data}


def errors_body(*errors: dict[str, Any]) -> bytes:
    return json.dumps({"errors": list(errors)}).encode()


def error(field: str | None, message: str) -> dict[str, Any]:
    """One of SendGrid's errors; ``help`` links the field's entry in its error list."""
    link = HELP + re.sub(r"\.\d+", "", field) if field else None
    return {"message": message, "field": field, "help": link}


@dataclass
class Accepted:
    """One mail the server took: its id, the JSON, the request's headers (lower case)."""

    message_id: str
    body: dict[str, Any]
    raw: bytes
    headers: dict[str, str]


@dataclass
class SendGrid:
    """The server's state: what it accepted and what a test told it to answer."""

    key: str
    port: int = 0
    max_bytes: int = 30 * 1024 * 1024
    delay: float = 0.0
    accepted: list[Accepted] = field(default_factory=list)
    requests: int = 0
    _queued: deque[Answer] = field(default_factory=deque)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _stopping: threading.Event = field(default_factory=threading.Event)
    domains: list[dict[str, Any]] = field(default_factory=list)  # authenticated domains

    def url(self, key: str | None = None, query: str = "") -> str:
        """The ``sendgrid+http://`` URL calling this server with ``key`` (its own)."""
        return f"sendgrid+http://{quote(key or self.key, safe='')}@{HOST}:{self.port}{query}"

    def fail_next(
        self,
        status: int,
        *,
        times: int = 1,
        headers: dict[str, str] | None = None,
        message: str | None = None,
    ) -> None:
        """Answer the next ``times`` authorised requests with ``status`` and SendGrid's
        error body (``message``, or what SendGrid says for that status)."""
        says = message or _DEFAULT_SAYS.get(status, "error")
        answer = (status, dict(headers or {}), errors_body(error(None, says)))
        with self._lock:
            self._queued.extend([answer] * times)

    def domains_answer(self, method: str, path: str, raw: bytes) -> Answer:
        """Domain authentication: list (``?domain=`` filters) and authenticate, as SendGrid's
        contract has them (three CNAMEs with ``automatic_security``)."""
        with self._lock:
            queued = self._queued.popleft() if self._queued else None
        if queued is not None:
            return queued
        if method == "GET":
            wanted = parse_qs(urlsplit(path).query).get("domain", [None])[0]
            listed = [d for d in self.domains if wanted in (None, d["domain"])]
            return 200, {}, json.dumps(listed).encode()
        body = json.loads(raw or b"{}")
        domain = body.get("domain")
        if method != "POST" or not isinstance(domain, str) or not domain:
            return 400, {}, errors_body(error("domain", "domain is required"))
        n = len(self.domains) + 1
        user = f"u{1000 + n}"
        made = {
            "id": n,
            "domain": domain,
            "subdomain": f"em{n}",
            "valid": False,
            "automatic_security": bool(body.get("automatic_security")),
            "dns": {
                "mail_cname": _cname(f"em{n}.{domain}", f"{user}.wl.sendgrid.net"),
                "dkim1": _cname(f"s1._domainkey.{domain}", f"s1.domainkey.{user}.wl.sendgrid.net"),
                "dkim2": _cname(f"s2._domainkey.{domain}", f"s2.domainkey.{user}.wl.sendgrid.net"),
            },
        }
        self.domains.append(made)
        return 201, {}, json.dumps(made).encode()

    def answer(self, method: str, path: str, headers: dict[str, str], raw: bytes) -> Answer:
        """The contract: what SendGrid answers to this request."""
        with self._lock:
            self.requests += 1
        if path.split("?", 1)[0] == DOMAINS:
            if headers.get("authorization") != f"Bearer {self.key}":
                return 401, {}, errors_body(error(None, BAD_KEY))
            return self.domains_answer(method, path, raw)
        if path != ROUTE:
            return 404, {}, errors_body(error(None, "not found"))
        if method != "POST":
            return 405, {}, errors_body(error(None, "method not allowed"))
        if headers.get("authorization") != f"Bearer {self.key}":
            return 401, {}, errors_body(error(None, BAD_KEY))
        with self._lock:
            queued = self._queued.popleft() if self._queued else None
        if queued is not None:
            return queued
        if len(raw) > self.max_bytes:
            return 413, {}, errors_body(error(None, _DEFAULT_SAYS[413]))
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            return 415, {}, errors_body(error(None, "Invalid UTF8 in request"))
        try:
            body = json.loads(text)
        except ValueError:
            return 400, {}, errors_body(error(None, "Bad Request"))
        if found := validate(body):
            return 400, {}, errors_body(*found)
        message_id = secrets.token_urlsafe(16)[:22]
        with self._lock:
            self.accepted.append(Accepted(message_id, body, raw, headers))
        return 202, {"X-Message-Id": message_id}, b""


# --- the JSON, as SendGrid's errors reference describes it -------------------------------


def validate(body: Any) -> list[dict[str, Any]]:
    """Every error SendGrid would list for a ``mail/send`` body (none: it is sendable)."""
    if not isinstance(body, dict):
        return [error(None, "Bad Request")]
    found = _personalizations(body)
    sender = body.get("from")
    if sender is None:
        found.append(error("from", "The from object must be provided for every email send."))
    else:
        found += _email_object(sender, "from")
    if "reply_to" in body and "reply_to_list" in body:
        found.append(error("reply_to", "reply_to and reply_to_list are mutually exclusive."))
    if "reply_to" in body:
        found += _email_object(body["reply_to"], "reply_to")
    for i, reply in enumerate(_list(body.get("reply_to_list"))):
        found += _email_object(reply, f"reply_to_list.{i}")
    templated = isinstance(body.get("template_id"), str)
    found += _subject(body, templated) + _content(body, templated)
    found += _headers(body.get("headers", {}), "headers")
    for i, attachment in enumerate(_list(body.get("attachments"))):
        found += _attachment(attachment, f"attachments.{i}")
    return found


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _email_object(value: Any, where: str) -> list[dict[str, Any]]:
    if not isinstance(value, dict) or not isinstance(value.get("email"), str):
        return [error(where, "Each email object must at least have an email address.")]
    email, name = value["email"], value.get("name")
    if len(email) > 320:
        return [error(f"{where}.email", "The email exceeds the maximum length of 320.")]
    if not _ADDRESS.fullmatch(email):
        return [error(f"{where}.email", "Does not contain a valid address.")]
    if name is not None and not isinstance(name, str):
        return [error(f"{where}.name", "The name must be a string.")]
    return []


def _personalizations(body: dict[str, Any]) -> list[dict[str, Any]]:
    personalizations = body.get("personalizations")
    if not isinstance(personalizations, list) or not personalizations:
        return [error("personalizations", "You must have at least one personalization.")]
    if len(personalizations) > 1000:
        return [error("personalizations", "There is a limit of 1000 personalizations.")]
    found: list[dict[str, Any]] = []
    seen: dict[str, str] = {}
    for i, personalization in enumerate(personalizations):
        where = f"personalizations.{i}"
        if not isinstance(personalization, dict) or not _list(personalization.get("to")):
            found.append(error(f"{where}.to", "The to parameter is required."))
            continue
        for kind in ("to", "cc", "bcc"):
            for j, recipient in enumerate(_list(personalization.get(kind))):
                if problems := _email_object(recipient, f"{where}.{kind}.{j}"):
                    found += problems
                    continue
                address = recipient["email"].lower()
                if address in seen:
                    found.append(
                        error(
                            f"{where}.{kind}.{j}.email",
                            f"Each email address in the personalization block should be"
                            f" unique; {recipient['email']} is also in {seen[address]}.",
                        )
                    )
                seen.setdefault(address, f"{where}.{kind}")
        found += _headers(personalization.get("headers", {}), f"{where}.headers")
    if len(seen) > MAX_RECIPIENTS:
        found.append(error("personalizations", "There is a limit of 1000 total recipients."))
    return found


def _subject(body: dict[str, Any], templated: bool) -> list[dict[str, Any]]:
    def given(value: Any) -> bool:
        return isinstance(value, str) and len(value) > 0

    every = all(given(p.get("subject")) for p in _list(body.get("personalizations")))
    if templated or given(body.get("subject")) or every:
        return []
    return [error("subject", "The subject is required.")]


def _content(body: dict[str, Any], templated: bool) -> list[dict[str, Any]]:
    content = body.get("content")
    if content is None and templated:
        return []
    if not isinstance(content, list) or not content:
        return [error("content", "There must be at least one defined content block.")]
    found: list[dict[str, Any]] = []
    for i, block in enumerate(content):
        kind = block.get("type") if isinstance(block, dict) else None
        value = block.get("value") if isinstance(block, dict) else None
        if not isinstance(kind, str) or not kind or not _NO_SEPARATORS.match(kind):
            found.append(error(f"content.{i}.type", "A content type is required."))
        if not isinstance(value, str) or not value:
            found.append(error(f"content.{i}.value", "The content value must be a string."))
    kinds = [block.get("type") for block in content if isinstance(block, dict)]
    expected = [k for k in ("text/plain", "text/html") if k in kinds]
    if kinds[: len(expected)] != expected:
        found.append(error("content", "text/plain needs to be first, followed by text/html."))
    return found


def _headers(headers: Any, where: str) -> list[dict[str, Any]]:
    if not isinstance(headers, dict):
        return [error(where, "The headers must be an object.")]
    found: list[dict[str, Any]] = []
    seen: set[str] = set()
    for name, value in headers.items():
        if not isinstance(value, str):
            found.append(error(where, "The header values must be strings."))
        elif not name.isascii() or not name or any(c.isspace() for c in name):
            found.append(error(where, "Header keys cannot contain non-ASCII or spaces."))
        elif name.lower() in RESERVED_HEADERS:
            found.append(error(where, f"Header can not be one of the reserved keys: {name}"))
        elif name.lower() in seen:
            found.append(error(where, "The headers cannot contain duplicate keys."))
        seen.add(name.lower())
    return found


def _attachment(attachment: Any, where: str) -> list[dict[str, Any]]:
    if not isinstance(attachment, dict):
        return [error(where, "An attachment must be an object.")]
    found: list[dict[str, Any]] = []
    content = attachment.get("content")
    try:
        ok = isinstance(content, str) and bool(base64.b64decode(content, validate=True))
    except binascii.Error:
        ok = False
    if not ok:
        found.append(error(f"{where}.content", "The attachment content must be base64."))
    filename = attachment.get("filename")
    if not isinstance(filename, str) or not filename or not _NO_SEPARATORS.match(filename):
        found.append(error(f"{where}.filename", "filename is required (no ; , CR or LF)."))
    for name in ("type", "content_id"):
        value = attachment.get(name, "")
        if not isinstance(value, str) or not _NO_SEPARATORS.match(value):
            found.append(error(f"{where}.{name}", f"The {name} is a string, no ; , CR or LF."))
    if attachment.get("disposition", "attachment") not in ("attachment", "inline"):
        found.append(error(f"{where}.disposition", "Either inline or attachment."))
    return found


# --- the HTTP server ----------------------------------------------------------------------


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    sendgrid: SendGrid


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        headers = {name.lower(): value for name, value in self.headers.items()}
        sendgrid = self.server.sendgrid
        status, extra, body = sendgrid.answer(self.command, self.path, headers, raw)
        if sendgrid.delay:
            sendgrid._stopping.wait(sendgrid.delay)
        self.send_response(status)
        for name, value in extra.items():
            self.send_header(name, value)
        if body:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_POST = do_GET = do_PUT = do_DELETE = _serve

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass


@contextmanager
def running_sendgrid(key: str) -> Iterator[SendGrid]:
    """A local SendGrid that takes ``key`` as its one valid API key."""
    server = _Server((HOST, 0), _Handler)
    server.sendgrid = sendgrid = SendGrid(key=key, port=int(server.server_address[1]))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield sendgrid
    finally:
        sendgrid._stopping.set()
        server.shutdown()
        server.server_close()
        thread.join()
