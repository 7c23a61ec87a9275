"""A local Cloudflare API v4 (zones list; dns_records list, create, patch, delete) as the
published contract has it, on 127.0.0.1 (the OS picks the port), in a thread.

Every answer is the envelope ``{"success", "errors", "messages", "result"}`` (lists add
``result_info``): 401/403 with code 10000 for a missing or wrong bearer token, or a zone
the token may not see (its zones are ``visible``); 404 (code 7003/81044) for an unknown
zone or record; 400 for a record Cloudflare refuses (a TXT ``content`` that is not quoted
strings of at most 255 bytes, an MX without priority, a name outside the zone); whatever
``fail_next`` queued; else success. ``calls`` records each (method, path).
"""

from __future__ import annotations

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
from urllib.parse import urlsplit

HOST = "127.0.0.1"
TOKEN = "cf-t0ken/with+odd=chars"
_TXT = re.compile(r'^(?:"(?:[^"\\]|\\.){0,255}"\s*)+$')

Json = dict[str, Any]


@dataclass
class CloudflareState:
    token: str
    port: int = 0
    zones: dict[str, str] = field(default_factory=dict)  # name -> id
    visible: set[str] = field(default_factory=set)  # zone names the token sees
    records: dict[str, dict[str, Json]] = field(default_factory=dict)  # zone id -> id -> record
    calls: list[tuple[str, str]] = field(default_factory=list)
    _queued: deque[tuple[str | None, int, Json]] = field(default_factory=deque)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def url(self, token: str | None = None) -> str:
        return f"cloudflare+http://{_quote(token or self.token)}@{HOST}:{self.port}"

    def add_zone(self, name: str, *, visible: bool = True) -> str:
        zid = secrets.token_hex(16)
        self.zones[name], self.records[zid] = zid, {}
        if visible:
            self.visible.add(name)
        return zid

    def add(self, zone: str, type_: str, name: str, content: str, **extra: Any) -> str:
        rid = secrets.token_hex(16)
        self.records[self.zones[zone]][rid] = {
            "id": rid, "type": type_, "name": name, "content": content, "ttl": 1, **extra
        }  # fmt: skip
        return rid

    def of(self, zone: str) -> list[Json]:
        return list(self.records[self.zones[zone]].values())

    def fail_next(self, status: int, code: int, message: str, method: str | None = None) -> None:
        """Answer the next request (the next ``method`` one) with this error."""
        body = _envelope(None, [{"code": code, "message": message}])
        self._queued.append((method, status, body))

    def changes(self) -> list[tuple[str, str]]:
        return [c for c in self.calls if c[0] != "GET"]


def _quote(text: str) -> str:
    from urllib.parse import quote

    return quote(text, safe="")


def _envelope(result: Any, errors: list[Json] | None = None, info: Json | None = None) -> Json:
    body: Json = {"success": not errors, "errors": errors or [], "messages": [], "result": result}
    if info is not None:
        body["result_info"] = info
    return body


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _answer(self, status: int, body: Json) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _handle(self) -> None:
        state = self.server.state
        parts = urlsplit(self.path)
        with state._lock:
            state.calls.append((self.command, parts.path))
            status, body = self._route(state, parts.path, parse_qs(parts.query))
        self._answer(status, body)

    do_GET = do_POST = do_PATCH = do_DELETE = _handle

    def _route(
        self, state: CloudflareState, path: str, query: dict[str, list[str]]
    ) -> tuple[int, Json]:
        if self.headers.get("Authorization") != f"Bearer {state.token}":
            return 403, _envelope(None, [{"code": 10000, "message": "Authentication error"}])
        if state._queued and state._queued[0][0] in (None, self.command):
            _, status, failed = state._queued.popleft()
            return status, failed
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length)) if length else {}
        if path == "/client/v4/zones" and self.command == "GET":
            name = query.get("name", [""])[0]
            found = [
                {"id": zid, "name": zname, "status": "active"}
                for zname, zid in state.zones.items()
                if zname in state.visible and (not name or zname == name)
            ]
            return 200, _envelope(found, info={"page": 1, "total_pages": 1, "count": len(found)})
        m = re.fullmatch(r"/client/v4/zones/([0-9a-f]+)/dns_records(?:/([0-9a-f]+))?", path)
        zone = next((n for n, i in state.zones.items() if m and i == m.group(1)), None)
        if m is None or zone is None:
            return 404, _envelope(None, [{"code": 7003, "message": "Could not route to " + path}])
        if zone not in state.visible:
            return 403, _envelope(None, [{"code": 10000, "message": "Authentication error"}])
        records, rid = state.records[m.group(1)], m.group(2)
        if rid is None and self.command == "GET":
            page, per = int(query.get("page", ["1"])[0]), int(query.get("per_page", ["100"])[0])
            items = list(records.values())
            pages = max(1, -(-len(items) // per))
            chunk = items[(page - 1) * per : page * per]
            info = {
                "page": page,
                "per_page": per,
                "count": len(chunk),
                "total_count": len(items),
                "total_pages": pages,
            }
            return 200, _envelope(chunk, info=info)
        if rid is None and self.command == "POST":
            if (problem := _refused(body, zone)) is not None:
                return 400, _envelope(None, [{"code": 9000, "message": problem}])
            new = {"id": secrets.token_hex(16), **body}
            records[new["id"]] = new
            return 200, _envelope(new)
        if rid is None or rid not in records:
            return 404, _envelope(None, [{"code": 81044, "message": "Record does not exist."}])
        if self.command == "DELETE":
            del records[rid]
            return 200, _envelope({"id": rid})
        if self.command == "PATCH":
            merged = records[rid] | body
            if (problem := _refused(merged, zone)) is not None:
                return 400, _envelope(None, [{"code": 9000, "message": problem}])
            records[rid] = merged
            return 200, _envelope(merged)
        return 405, _envelope(None, [{"code": 10405, "message": "Method not allowed"}])


def _refused(record: Json, zone: str) -> str | None:
    name = str(record.get("name", ""))
    if name != zone and not name.endswith("." + zone):
        return "DNS record name is not in the zone"
    if record.get("type") == "TXT" and not _TXT.match(str(record.get("content", ""))):
        return "TXT content must be quoted character strings of at most 255 bytes"
    if record.get("type") == "MX" and not isinstance(record.get("priority"), int):
        return "MX records need a priority"
    return None


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    state: CloudflareState


@contextmanager
def running_cloudflare(token: str = TOKEN) -> Iterator[CloudflareState]:
    server = _Server((HOST, 0), _Handler)
    server.state = state = CloudflareState(token=token, port=int(server.server_address[1]))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
