"""The agentid HTTP API in memory, as an httpx transport that follows the published contract.

``FakeAPI`` is a small, real implementation of the contract (tokens, scopes, 404 across
projects, 409 on duplicates, pages with ``limit``/``before``/``next``): test_client.py and
test_cli_offline.py drive the client and the CLI through it.
"""

from __future__ import annotations

import json
import re
import socket
from dataclasses import dataclass
from dataclasses import field
from typing import Any

import httpx

ADMIN = "aid_admin_test"
BASE = "http://agentid.test"
NOW = "2025-01-01T00:00:00Z"
RAW = b"From: a@shop.test\r\nTo: signup@acme.test\r\nSubject: Your code\r\n\r\nCode: 481516\r\n"


@dataclass
class FakeAPI:
    """The agentid HTTP API in memory, as a transport handler."""

    tokens: dict[str, tuple[str | None, set[str]]] = field(
        default_factory=lambda: {ADMIN: (None, {"read", "write"})}
    )
    projects: dict[str, dict[str, Any]] = field(default_factory=dict)
    aliases: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    messages: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    codes: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    token_infos: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    requests: list[httpx.Request] = field(default_factory=list)
    page_size: int = 50  # a list's page when the request gives no limit

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def page(
        self, name: str, items: list[dict[str, Any]], key: str, q: httpx.QueryParams
    ) -> dict[str, Any]:
        """One page of a list, as list routes answer it: ``limit``, ``before`` and ``next``."""
        keys = [item[key] for item in items]
        start = keys.index(q["before"]) + 1 if q.get("before") in keys else 0
        page = items[start : start + int(q.get("limit", self.page_size))]
        more = start + len(page) < len(items)
        return {name: page, "next": page[-1][key] if more and page else None}

    def deliver(self, project: str, code: str = "481516", to: str = "signup@acme.test") -> str:
        """Put one received message (and its code) into a project."""
        mid = f"m{len(self.messages[project]) + 1:04d}"
        found = {"id": "c" + mid, "value": code, "kind": "code", "channel": "email"}
        found |= {"message_id": mid, "from": "a@shop.test", "to": [to]}
        found |= {"received_at": NOW, "confidence": 0.9, "used": False}
        found |= {"source": {"type": "email", "id": mid}, "group_id": mid}
        found |= {"authenticated": None, "expires_at": None}
        self.codes[project].append(found)
        self.messages[project].append(
            {
                "id": mid,
                "received_at": NOW,
                "from": "a@shop.test",
                "to": [to],
                "subject": "Your code",
                "size": len(RAW),
                "has_attachments": False,
                "unread": True,
                "codes": [found],
                "links": [],
            }
        )
        return mid

    # -- the contract -----------------------------------------------------------------------

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        auth = request.headers.get("authorization", "")
        grant = self.tokens.get(auth.removeprefix("Bearer "))
        if not auth.startswith("Bearer ") or grant is None:
            return _err(401, "unauthorized", "missing or invalid token")
        scope, scopes = grant
        path, method = request.url.path, request.method
        if path == "/projects":
            if method == "GET":  # a project token sees only its own project
                mine = [p for p in self.projects.values() if scope in (None, p["id"])]
                return _ok(self.page("projects", mine, "id", request.url.params))
            if scope is not None:
                return _err(403, "forbidden", "admin token required")
            return self.create_project(json.loads(request.content))
        m = re.fullmatch(r"/projects/([^/]+)(/.*)?", path)
        if m is None:
            return _err(404, "not_found", f"no route {path}")
        pid, rest = m.group(1), m.group(2) or ""
        if pid not in self.projects or scope not in (None, pid):
            return _err(404, "not_found", f"project {pid!r} not found")
        if method != "GET" and "write" not in scopes:
            return _err(403, "forbidden", "token lacks the write scope")
        body = json.loads(request.content) if request.content else {}
        return self.route(pid, method, rest, body, request.url.params, admin=scope is None)

    def create_project(self, body: dict[str, Any]) -> httpx.Response:
        pid = body["id"]
        if pid in self.projects:
            return _err(409, "conflict", f"project {pid!r} already exists")
        self.projects[pid] = {
            "id": pid,
            "domain": body.get("domain"),
            "email_active": False,
            "primary_address": None,
            "catch_all": False,
            "retention_days": 30,
            "authenticated_codes": False,
            "created_at": NOW,
        }
        self.aliases[pid], self.messages[pid], self.codes[pid] = [], [], []
        return _ok(self.projects[pid], 201)

    def route(
        self,
        pid: str,
        method: str,
        rest: str,
        body: dict[str, Any],
        q: httpx.QueryParams,
        *,
        admin: bool,
    ) -> httpx.Response:
        project = self.projects[pid]
        domain = project["domain"] or f"{pid}.agentid.local"
        if (method, rest) == ("GET", ""):
            return _ok(project)
        if (method, rest) == ("POST", "/tokens"):
            if not admin:
                return _err(403, "forbidden", "admin token required")
            token = f"aid_{pid}_{len(self.tokens)}"
            scopes = body.get("scopes") or ["read", "write"]
            self.tokens[token] = (pid, set(scopes))
            info = {"id": f"t{len(self.tokens)}", "project_id": pid, "scopes": scopes}
            info |= {"name": body.get("name"), "created_at": NOW}
            self.token_infos.setdefault(pid, []).insert(0, info)  # newest first
            return _ok(info | {"token": token}, 201)
        if (method, rest) == ("GET", "/tokens"):
            if not admin:
                return _err(403, "forbidden", "admin token required")
            return _ok(self.page("tokens", self.token_infos.get(pid, []), "id", q))
        if (method, rest) == ("POST", "/email/provision"):
            address = body.get("address") or f"hello@{domain}"
            project |= {"email_active": True, "primary_address": address}
            records = [
                {"type": "MX", "name": domain, "value": "mx.agentid.local", "priority": 10},
                {"type": "TXT", "name": f"agentid._domainkey.{domain}", "value": "v=DKIM1; k=rsa"},
            ]
            return _ok({"address": address, "domain": domain, "dns_records": records})
        if rest == "/email/aliases":
            if method == "GET":
                return _ok(self.page("aliases", self.aliases[pid], "address", q))
            local = body.get("local_part") or f"{body.get('label', 'a')}-k3f9x2"
            alias = {"address": f"{local}@{domain}", "label": body.get("label"), "enabled": True}
            alias |= {"expires_at": body.get("expires_at"), "created_at": NOW}
            if any(a["address"] == alias["address"] for a in self.aliases[pid]):
                return _err(409, "conflict", f"alias {alias['address']} already exists")
            self.aliases[pid].append(alias)
            return _ok(alias, 201)
        if method == "DELETE" and rest.startswith("/email/aliases/"):
            address = rest.removeprefix("/email/aliases/")
            before = len(self.aliases[pid])
            self.aliases[pid] = [a for a in self.aliases[pid] if a["address"] != address]
            if len(self.aliases[pid]) == before:
                return _err(404, "not_found", f"alias {address} not found")
            return httpx.Response(204)
        if (method, rest) == ("GET", "/email/inbox"):
            found = [m for m in reversed(self.messages[pid]) if _matches(m, q)]
            return _ok({"messages": found[: int(q.get("limit", 50))], "next": None})
        m = re.fullmatch(r"/email/messages/([^/]+)(/raw)?", rest)
        if m is not None:
            msg = next((x for x in self.messages[pid] if x["id"] == m.group(1)), None)
            if msg is None:
                return _err(404, "not_found", f"message {m.group(1)} not found")
            if m.group(2):
                return httpx.Response(200, content=RAW, headers={"content-type": "message/rfc822"})
            if method == "PATCH":
                msg["unread"] = body["unread"]
            if method == "DELETE":
                self.messages[pid].remove(msg)
                return httpx.Response(204)
            detail = {"headers": [["Subject", msg["subject"]]], "text": "Code: 481516\n"}
            detail |= {"html": None, "attachments": [], "auth_results": None}
            detail |= {"direction": "in", "mail_from": msg["from"], "peer": "127.0.0.1"}
            detail |= {"helo": "shop.test", "message_id": f"<{msg['id']}@shop.test>"}
            detail |= {"date": None, "status": "parsed", "parse_error": None}
            return _ok(msg | detail)
        if (method, rest) == ("GET", "/codes"):
            found = [
                c
                for c in reversed(self.codes[pid])
                if not (q.get("unused") == "true" and c["used"])
                and q.get("channel") in (None, c["channel"])
            ][: int(q.get("limit", 50))]
            if q.get("consume") == "true":
                for c in found:
                    c["used"] = True
            return _ok({"codes": [dict(c) for c in found]})
        return _err(404, "not_found", f"no route {method} {rest}")


def _matches(message: dict[str, Any], q: httpx.QueryParams) -> bool:
    if "to" in q and q["to"] not in message["to"]:
        return False
    if "from" in q and q["from"] != message["from"]:
        return False
    return not (q.get("unread") == "true" and not message["unread"])


def _ok(body: dict[str, Any], status: int = 200) -> httpx.Response:
    return httpx.Response(status, json=body)


def _err(status: int, code: str, message: str) -> httpx.Response:
    return httpx.Response(status, json={"error": {"code": code, "message": message}})


def closed_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port
