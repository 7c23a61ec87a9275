"""A local Plivo: the API v1 calls agentid makes, as Plivo documents them, on a real HTTP
server (contract.py). Numbers are written without ``+`` (``14155550100``).

In this order: 404 off its routes; 401 (Plivo's plain-text refusal) without the account's
Basic credentials or for another account; whatever ``fail`` queued; then

- ``GET PhoneNumber/?country_iso&type&services&pattern&limit``: the numbers of ``stock``
  of that country and type whose digits after the country code start with ``pattern``;
  ``{"api_id", "meta", "objects"}``. An unknown type is 400.
- ``GET Application/``: the applications; ``POST Application/`` (``app_name``,
  ``message_url``) 201 ``{"api_id", "app_id", "message": "created"}``;
  ``POST Application/{app_id}/`` changes one (202 ``"changed"``), 404 when unknown.
- ``POST PhoneNumber/{number}/`` (``app_id``): 201 ``{"api_id", "message": "created",
  "numbers": [{"number", "status": "Success"}], "status": "fulfilled"}`` (``"pending"``
  when ``pending`` is set: the number stays off the account until ``fulfil``); 404 for a
  number not in stock, 400 for an unknown app_id.
- ``GET Number/{number}/``: the account's number (``{"api_id", "number", "alias",
  "application", "number_type", "sms_enabled", ...}``), or 404 (not on the account: never
  bought, released, or a purchase still pending).
- ``DELETE Number/{number}/``: 204, or 404.

Error bodies are ``{"api_id", "error"}``.
"""

from __future__ import annotations

import json
import re
import secrets
import threading
import uuid
from dataclasses import dataclass
from dataclasses import field
from typing import Any
from urllib.parse import parse_qsl
from urllib.parse import quote

from tests.phone.contract import HOST
from tests.phone.contract import Answer
from tests.phone.contract import Failures
from tests.phone.contract import Seen
from tests.phone.contract import basic_auth

AUTH_ID = "MADEMO0123456789ABCD"
TOKEN = "pl-t0ken/with+chars="
UNAUTHORIZED = (
    b"Could not verify your access level for that URL.\nYou have to login with proper credentials"
)
_API = re.compile(r"^/v1/Account/(?P<account>[A-Z0-9]{20})/(?P<rest>.*)$")
_BUY = re.compile(r"^PhoneNumber/(?P<number>[0-9]{6,15})/$")
_NUMBER = re.compile(r"^Number/(?P<number>[0-9]{6,15})/$")
_APP = re.compile(r"^Application/(?P<app>[0-9]+)/$")


def error(status: int, message: str) -> Answer:
    return status, {}, json.dumps({"api_id": str(uuid.uuid4()), "error": message}).encode()


def stocked(number: str, kind: str = "local", country: str = "US") -> dict[str, Any]:
    """A number in stock, as Plivo's PhoneNumber search lists it."""
    return {
        "country": "UNITED STATES",
        "country_iso": country,
        "lata": 722,
        "monthly_rental_rate": "0.80000",
        "number": number,
        "type": kind,
        "prefix": number[1:4],
        "rate_center": "SNFC CNTRL",
        "region": "United States",
        "resource_uri": f"/v1/Account/{AUTH_ID}/PhoneNumber/{number}/",
        "restriction": None,
        "restriction_text": None,
        "setup_rate": "0.00000",
        "sms_enabled": True,
        "sms_rate": "0.00800",
        "voice_enabled": True,
        "voice_rate": "0.00500",
    }


@dataclass
class Plivo:
    auth_id: str = AUTH_ID
    token: str = TOKEN
    port: int = 0
    stock: list[dict[str, Any]] = field(default_factory=list)
    apps: dict[str, dict[str, Any]] = field(default_factory=dict)  # app_id -> application
    owned: dict[str, str] = field(default_factory=dict)  # number -> app_id
    released: list[str] = field(default_factory=list)
    pending: bool = False
    awaiting: set[str] = field(default_factory=set)  # bought pending: not on the account yet
    seen: list[Seen] = field(default_factory=list)
    failures: Failures = field(default_factory=Failures)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def url(self, token: str | None = None) -> str:
        secret = quote(token or self.token, safe="")
        return f"plivo+http://{self.auth_id}:{secret}@{HOST}:{self.port}"

    def fail(self, status: int, message: str, *, headers: dict[str, str] | None = None) -> None:
        answer = error(status, message)
        self.failures.queue((answer[0], dict(headers or {}), answer[2]))

    def fulfil(self, number: str) -> None:
        """Plivo completes a pending purchase: the number is on the account from now on."""
        with self._lock:
            self.awaiting.discard(number)

    def answer(self, request: Seen) -> Answer:
        with self._lock:
            self.seen.append(request)
        route = _API.match(request.path)
        if route is None:
            return error(404, "not found")
        auth = basic_auth(request.headers)
        if auth != (self.auth_id, self.token) or route["account"] != self.auth_id:
            return 401, {"Content-Type": "text/html"}, UNAUTHORIZED
        if (queued := self.failures.next()) is not None:
            return queued
        rest, method = route["rest"], request.method
        body = json.loads(request.body) if request.body else {}
        if rest == "PhoneNumber/" and method == "GET":
            return self._search(dict(parse_qsl(request.query)))
        if rest == "Application/" and method == "GET":
            objects = list(self.apps.values())
            meta = {"limit": 20, "offset": 0, "total_count": len(objects), "next": None}
            return 200, {}, json.dumps({"api_id": "x", "meta": meta, "objects": objects}).encode()
        if rest == "Application/" and method == "POST":
            if not body.get("app_name"):
                return error(400, "app_name is required")
            app_id = str(secrets.randbelow(10**17) + 10**16)
            with self._lock:
                self.apps[app_id] = {"app_id": app_id, **body}
            made = {"api_id": "x", "app_id": app_id, "message": "created"}
            return 201, {}, json.dumps(made).encode()
        if (app := _APP.match(rest)) and method == "POST":
            if app["app"] not in self.apps:
                return error(404, "not found")
            self.apps[app["app"]].update(body)
            return 202, {}, json.dumps({"api_id": "x", "message": "changed"}).encode()
        if (buy := _BUY.match(rest)) and method == "POST":
            return self._buy(buy["number"], body)
        if (number := _NUMBER.match(rest)) and method == "GET":
            return self._number(number["number"])
        if (number := _NUMBER.match(rest)) and method == "DELETE":
            with self._lock:
                gone = self.owned.pop(number["number"], None)
                if gone is not None:
                    self.released.append(number["number"])
            return (204, {}, b"") if gone is not None else error(404, "not found")
        return error(404, "not found")

    def _search(self, query: dict[str, str]) -> Answer:
        kind = query.get("type", "any")
        if kind not in ("local", "mobile", "tollfree", "fixed", "national", "any"):
            return error(400, "type must be one of local, mobile, tollfree, fixed, national")
        pattern = query.get("pattern", "")
        found = [
            n
            for n in self.stock
            if n["country_iso"] == query.get("country_iso")
            and kind in ("any", n["type"])
            and n["number"][1:].startswith(pattern)
            and ("sms" not in query.get("services", "") or n["sms_enabled"])
        ][: int(query.get("limit", "20"))]
        meta = {"limit": 20, "offset": 0, "total_count": len(found), "next": None}
        return 200, {}, json.dumps({"api_id": "x", "meta": meta, "objects": found}).encode()

    def _number(self, number: str) -> Answer:
        with self._lock:
            app_id = self.owned.get(number)
            if app_id is None or number in self.awaiting:
                return error(404, "not found")
        app = f"/v1/Account/{self.auth_id}/Application/{app_id}/" if app_id else None
        listed = {
            "added_on": "2026-01-01",
            "alias": None,
            "api_id": str(uuid.uuid4()),
            "application": app,
            "carrier": "Plivo",
            "monthly_rental_rate": "0.80000",
            "number": number,
            "number_type": "local",
            "region": "United States",
            "resource_uri": f"/v1/Account/{self.auth_id}/Number/{number}/",
            "sms_enabled": True,
            "sms_rate": "0.00000",
            "sub_account": None,
            "voice_enabled": True,
            "voice_rate": "0.00850",
        }
        return 200, {}, json.dumps(listed).encode()

    def _buy(self, number: str, body: dict[str, Any]) -> Answer:
        offered = next((n for n in self.stock if n["number"] == number), None)
        if offered is None:
            return error(404, "not found")
        app_id = body.get("app_id")
        if app_id is not None and app_id not in self.apps:
            return error(400, "app_id is not a valid application")
        with self._lock:
            self.stock.remove(offered)
            self.owned[number] = app_id or ""
            if self.pending:
                self.awaiting.add(number)
        status = "pending" if self.pending else "fulfilled"
        bought = {
            "api_id": "x",
            "message": "created",
            "numbers": [{"number": number, "status": "Success"}],
            "status": status,
        }
        return 201, {}, json.dumps(bought).encode()
