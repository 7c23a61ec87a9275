"""A local Twilio: the REST API 2010-04-01 calls agentid makes, as Twilio documents them,
on a real HTTP server (contract.py).

In this order: 404 (``20404``) off its routes; 401 (``20003 Authenticate``) without the
account's Basic credentials or for another account; whatever ``fail`` queued; then

- ``GET .../AvailablePhoneNumbers/{country}/{Local|Mobile|TollFree}.json``: the numbers
  of ``stock`` for that country and kind, filtered by ``AreaCode``, ``SmsEnabled`` and the
  ``Exclude*AddressRequired`` flags, at most ``PageSize``; ``{"available_phone_numbers",
  "uri", ...}``; an unknown country is 404.
- ``POST .../IncomingPhoneNumbers.json``: ``PhoneNumber`` missing or malformed is 400
  ``21421``; one not in stock 400 ``21422``; one needing an address 400 ``21631``, a
  bundle 400 ``21649``; an ``SmsUrl`` that is no http(s) URL 400 ``21502``; else 201 with
  the new ``PN`` sid and the number's resource, which is recorded.
- ``DELETE .../IncomingPhoneNumbers/{sid}.json``: 204, or 404 ``20404``.
- Lookup v2 ``GET /v2/PhoneNumbers/{number}?Fields=line_type_intelligence``: the number
  with ``line_type_intelligence.type`` from ``line_types`` (``nonFixedVoip`` by default
  for Twilio's own numbers); ``lookup_fails`` makes it answer 503.

Subaccounts: ``POST /2010-04-01/Accounts.json`` (``FriendlyName``) makes one (201 with its
``sid`` and ``auth_token``); the main account's credentials act on its subaccounts' numbers;
``POST .../Accounts/{sub}.json`` with ``Status=closed`` closes one (its numbers go with it).

Every error body is Twilio's ``{"code", "message", "more_info", "status"}``.
"""

from __future__ import annotations

import json
import re
import secrets
import threading
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

ACCOUNT = "AC" + "0123456789abcdef" * 2
TOKEN = "tw-t0ken/with+chars="
MESSAGES = {
    20003: "Authenticate",
    20404: "The requested resource was not found",
    20429: "Too Many Requests",
    21421: "PhoneNumber is invalid",
    21422: "PhoneNumber is not available",
    21502: "Invalid callback url",
    21631: "Phone Number Requires an Address",
    21649: "Phone Number Requires a Bundle",
}
_API = re.compile(r"^/2010-04-01/Accounts/(?P<account>AC[0-9a-f]{32})(?P<rest>/.*|\.json)$")
ACCOUNTS = "/2010-04-01/Accounts.json"
_SEARCH = re.compile(
    r"^/AvailablePhoneNumbers/(?P<country>[A-Z]{2})/(?P<kind>Local|Mobile|TollFree)\.json$"
)
_LOOKUP = re.compile(r"^/v2/PhoneNumbers/(?P<number>\+[0-9]{7,15})$")
_OWNED = re.compile(r"^/IncomingPhoneNumbers/(?P<sid>PN[0-9a-f]{32})\.json$")
_E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")


def error(status: int, code: int, message: str | None = None) -> Answer:
    body = {
        "code": code,
        "message": message or MESSAGES.get(code, "error"),
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }
    return status, {}, json.dumps(body).encode()


def stocked(number: str, kind: str = "Local", *, address: str = "none") -> dict[str, Any]:
    """A number in stock, as an AvailablePhoneNumber resource (plus its kind)."""
    return {
        "friendly_name": f"({number[2:5]}) {number[5:8]}-{number[8:]}",
        "phone_number": number,
        "lata": "722",
        "locality": "San Francisco",
        "rate_center": "SNFCCNTRL",
        "region": "CA",
        "postal_code": "94105",
        "iso_country": "US",
        "address_requirements": address,
        "beta": False,
        "capabilities": {"voice": True, "SMS": True, "MMS": True, "fax": False},
        "kind": kind,
    }


@dataclass
class Twilio:
    account: str = ACCOUNT
    token: str = TOKEN
    port: int = 0
    stock: list[dict[str, Any]] = field(default_factory=list)
    owned: dict[str, dict[str, Any]] = field(default_factory=dict)  # sid -> resource
    released: list[str] = field(default_factory=list)
    seen: list[Seen] = field(default_factory=list)
    bundle_required: set[str] = field(default_factory=set)
    line_types: dict[str, str] = field(default_factory=dict)
    subaccounts: dict[str, dict[str, Any]] = field(default_factory=dict)  # sid -> resource
    lookup_fails: bool = False
    failures: Failures = field(default_factory=Failures)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def url(self, token: str | None = None, account: str | None = None) -> str:
        """The ``twilio+http://`` URL calling this server."""
        secret = quote(token or self.token, safe="")
        return f"twilio+http://{account or self.account}:{secret}@{HOST}:{self.port}"

    def fail(self, status: int, code: int, *, headers: dict[str, str] | None = None) -> None:
        """Answer the next authorised request with this error."""
        answer = error(status, code)
        self.failures.queue((answer[0], dict(headers or {}), answer[2]))

    def answer(self, request: Seen) -> Answer:
        with self._lock:
            self.seen.append(request)
        route = _API.match(request.path)
        if route is None and (lookup := _LOOKUP.match(request.path)):
            return self._lookup(lookup["number"], request)
        main = basic_auth(request.headers) == (self.account, self.token)
        if request.path == ACCOUNTS and request.method == "POST":
            return (
                self._subaccount(dict(parse_qsl(request.body.decode())))
                if main
                else error(401, 20003)
            )
        if route is None:
            return error(404, 20404)
        account = route["account"]
        sub = self.subaccounts.get(account)
        own = sub is not None and basic_auth(request.headers) == (account, sub["auth_token"])
        if not (main and (account == self.account or sub is not None)) and not own:
            return error(401, 20003)
        if sub is not None and sub["status"] == "closed":
            return error(401, 20003)
        if (queued := self.failures.next()) is not None:
            return queued
        rest = route["rest"]
        if rest == ".json" and request.method == "POST" and sub is not None:
            form = dict(parse_qsl(request.body.decode()))
            with self._lock:
                sub["status"] = form.get("Status", sub["status"])
                if sub["status"] == "closed":
                    for sid in [k for k, v in self.owned.items() if v["account_sid"] == account]:
                        self.owned.pop(sid)
            return 200, {}, json.dumps(sub).encode()
        if (search := _SEARCH.match(rest)) and request.method == "GET":
            return self._search(search["country"], search["kind"], dict(parse_qsl(request.query)))
        if rest == "/IncomingPhoneNumbers.json" and request.method == "POST":
            return self._buy(dict(parse_qsl(request.body.decode())), account)
        if (owned := _OWNED.match(rest)) and request.method == "DELETE":
            with self._lock:
                found = self.owned.get(owned["sid"])
                mine = found is not None and found["account_sid"] == account
                gone = self.owned.pop(owned["sid"]) if mine else None
                if gone is not None:
                    self.released.append(owned["sid"])
            return (204, {}, b"") if gone is not None else error(404, 20404)
        return error(404, 20404)

    def _lookup(self, number: str, request: Seen) -> Answer:
        if basic_auth(request.headers) != (self.account, self.token):
            return error(401, 20003)
        if self.lookup_fails:
            return error(503, 20503, "Service Unavailable")
        body: dict[str, Any] = {"phone_number": number, "valid": True, "country_code": "US"}
        fields = dict(parse_qsl(request.query)).get("Fields", "").split(",")
        if "line_type_intelligence" in fields:
            kind = self.line_types.get(number, "nonFixedVoip")
            body["line_type_intelligence"] = {
                "type": kind,
                "carrier_name": "Twilio",
                "error_code": None,
            }
        return 200, {}, json.dumps(body).encode()

    def _search(self, country: str, kind: str, query: dict[str, str]) -> Answer:
        if country not in ("US", "CA", "GB"):
            return error(404, 20404)
        try:
            size = int(query.get("PageSize", "50"))
        except ValueError:
            return error(400, 20001, "Invalid PageSize")
        area = query.get("AreaCode")
        exclude = any(
            query.get(f"Exclude{w}AddressRequired") == "true" for w in ("All", "Local", "Foreign")
        )
        found = [
            {k: v for k, v in n.items() if k != "kind"}
            for n in self.stock
            if n["kind"] == kind
            and n["iso_country"] == country
            and (area is None or n["phone_number"][2:5] == area)
            and not (exclude and n["address_requirements"] != "none")
            and not (query.get("SmsEnabled") == "true" and not n["capabilities"]["SMS"])
        ][:size]
        uri = f"/2010-04-01/Accounts/{self.account}/AvailablePhoneNumbers/{country}/{kind}.json"
        return 200, {}, json.dumps({"available_phone_numbers": found, "uri": uri}).encode()

    def _subaccount(self, form: dict[str, str]) -> Answer:
        sid = "AC" + secrets.token_hex(16)
        resource = {
            "sid": sid,
            "auth_token": secrets.token_hex(16),
            "friendly_name": form.get("FriendlyName", sid),
            "owner_account_sid": self.account,
            "status": "active",
            "type": "Full",
            "uri": f"/2010-04-01/Accounts/{sid}.json",
        }
        with self._lock:
            self.subaccounts[sid] = resource
        return 201, {}, json.dumps(resource).encode()

    def _buy(self, form: dict[str, str], account: str) -> Answer:
        number = form.get("PhoneNumber", "")
        if not _E164.match(number):
            return error(400, 21421)
        offered = next((n for n in self.stock if n["phone_number"] == number), None)
        if offered is None:
            return error(400, 21422)
        if number in self.bundle_required:
            return error(400, 21649)
        if offered["address_requirements"] != "none":
            return error(400, 21631)
        sms_url = form.get("SmsUrl")
        if sms_url is not None and not re.match(r"^https?://[^\s/]+", sms_url):
            return error(400, 21502)
        sid = "PN" + secrets.token_hex(16)
        resource = {
            "account_sid": account,
            "api_version": "2010-04-01",
            "capabilities": {"voice": True, "sms": True, "mms": True, "fax": False},
            "friendly_name": form.get("FriendlyName", number),
            "phone_number": number,
            "sid": sid,
            "sms_method": form.get("SmsMethod", "POST"),
            "sms_url": sms_url or "",
            "status": "in-use",
            "uri": f"/2010-04-01/Accounts/{account}/IncomingPhoneNumbers/{sid}.json",
        }
        with self._lock:
            self.stock.remove(offered)
            self.owned[sid] = resource
        return 201, {}, json.dumps(resource).encode()
