"""Numbers from Plivo (API v1): ``plivo://<auth id>:<auth token>@api.plivo.com``.

``plivo+http://MA...:token@127.0.0.1:9000`` calls a local server speaking the same
contract. ``timeout=S`` bounds each call (default 30); ``app=NAME`` names the
Application numbers are attached to (default ``agentid``). JSON bodies, the auth id and
token as HTTP Basic credentials, under ``/v1/Account/{auth id}/``:

- search: ``GET PhoneNumber/?country_iso=US&type=local|mobile|tollfree&services=sms``
  (``pattern`` = the area code, which Plivo matches after the country code; ``limit``);
- the Application: ``GET Application/`` finds the one named ``app`` (its
  ``message_url`` changed with ``POST Application/{app_id}/`` when it points elsewhere),
  or ``POST Application/`` with ``app_name``, ``message_url`` (our webhook) and
  ``message_method=POST`` creates it;
- buy: ``POST PhoneNumber/{number}/`` with ``app_id``: 201 with ``"status"``
  ``"fulfilled"`` (active) or ``"pending"`` (Plivo completes it later);
- status of a ``pending`` purchase: ``GET Number/{number}/`` lists the number once it is on
  the account (active); a 404 means Plivo has not completed it yet (still pending);
- release: ``DELETE Number/{number}/`` (204; a 404 means it is gone already).

Plivo writes numbers without ``+`` (``14154009186``); they are E.164 here. A failure goes
through the one table (``agentid.providers.failures``) with Plivo's ``error`` text as the
detail. Inbound SMS reach ``POST /webhooks/plivo/sms``, signed V3 with the auth token
(``agentid.providers.phone.signatures``). Messages never show the token.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import httpx

from agentid.errors import ProviderRejected
from agentid.errors import ValidationFailed
from agentid.providers.base import AvailableNumber
from agentid.providers.base import Capability
from agentid.providers.base import InboundSms
from agentid.providers.base import NumberSearch
from agentid.providers.base import NumberStatus
from agentid.providers.base import OwnedNumber
from agentid.providers.base import WebhookRequest
from agentid.providers.phone.signatures import plivo_v3_valid
from agentid.providers.phone.sms_form import read_sms_form
from agentid.providers.registry import HttpReach
from agentid.providers.registry import ProviderUrl
from agentid.providers.registry import Transports
from agentid.providers.vendor_api import VendorApi
from agentid.providers.vendor_api import failure_body

VENDOR_HOST = "api.plivo.com"
WEBHOOK_PATH = "/webhooks/plivo/sms"
SIGNATURES = ("x-plivo-signature-v3", "x-plivo-signature-ma-v3")  # voice, messaging
NONCE = "x-plivo-signature-v3-nonce"
DEFAULT_APP = "agentid"
_AUTH_ID = re.compile(r"(MA|SA)[A-Z0-9]{18}")
_DIGITS = re.compile(r"\+?[0-9]{6,15}")
_AREA_CODE = re.compile(r"[0-9]{1,6}")
_APP_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")
_MEDIA = re.compile(r"Media[0-9]{1,2}")


def first_error(response: httpx.Response) -> str | None:
    """What Plivo said about a failure: the ``error`` of ``{"api_id", "error"}``."""
    body = failure_body(response)
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):  # some endpoints nest it: {"error": {"message": ...}}
        error = error.get("message") or error.get("error")
    return error if isinstance(error, str) and error else None


def e164(number: str) -> str:
    """Plivo's ``14154009186`` as ``+14154009186`` (a sender id is kept as it is)."""
    return "+" + number if number.isdigit() else number


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


class PlivoPhone:
    """A ``PhoneProvider`` over Plivo's REST API, through the HTTP client it is given."""

    scheme = "plivo"
    webhook_path = WEBHOOK_PATH

    def __init__(
        self,
        *,
        auth_id: str,
        auth_token: str,
        reach: HttpReach,
        app_name: str = DEFAULT_APP,
    ) -> None:
        self.auth_id = auth_id
        self._token = auth_token
        self.endpoint = reach.endpoint
        self.app_name = app_name
        secrets, auth = (auth_token,), (auth_id, auth_token)
        self._api = VendorApi("plivo", reach, first_error, secrets, auth)
        self.name = self._api.name

    def __repr__(self) -> str:  # never the token
        return f"PlivoPhone({self.auth_id!r}, {self.endpoint!r})"

    def _url(self, path: str) -> str:
        """``path`` under the account's resources."""
        return f"{self.endpoint}/v1/Account/{self.auth_id}/{path}"

    async def search_numbers(self, wanted: NumberSearch) -> Sequence[AvailableNumber]:
        country, capabilities = wanted.country, wanted.capabilities
        services = ",".join(c.value for c in sorted(capabilities) if c is not Capability.MMS)
        params = {
            "country_iso": country,
            "type": wanted.line_type.value,
            "limit": str(max(1, min(wanted.limit, 20))),
        }
        if services:
            params["services"] = services
        if wanted.area_code is not None:
            if not _AREA_CODE.fullmatch(wanted.area_code):
                raise ValidationFailed("area_code must be digits")
            params["pattern"] = wanted.area_code
        response = await self._api.request("GET", self._url("PhoneNumber/"), params=params)
        self._api.check(response)
        objects = _json(response).get("objects")
        found = []
        for item in objects if isinstance(objects, list) else []:
            number = item.get("number") if isinstance(item, dict) else None
            if not isinstance(number, str) or not _DIGITS.fullmatch(number):
                continue
            have = {Capability.VOICE} if item.get("voice_enabled") is True else set()
            have |= {Capability.SMS} if item.get("sms_enabled") is True else set()
            have |= {Capability.MMS} if item.get("mms_enabled") is True else set()
            if not capabilities - {Capability.MMS} <= have:
                continue
            rate = item.get("monthly_rental_rate")
            found.append(
                AvailableNumber(
                    e164=e164(number),
                    country=country,
                    capabilities=frozenset(have),
                    region=item.get("region") if isinstance(item.get("region"), str) else None,
                    monthly_cost=f"{rate} USD" if isinstance(rate, str) else None,
                )
            )
        return found

    async def _app_id(self, sms_url: str) -> str:
        """The Application named ``app_name``, pointing at ``sms_url``: reused, else made."""
        response = await self._api.request("GET", self._url("Application/"), params={"limit": "20"})
        self._api.check(response)
        apps = _json(response).get("objects")
        for app in apps if isinstance(apps, list) else []:
            if isinstance(app, dict) and app.get("app_name") == self.app_name:
                app_id = str(app.get("app_id") or "")
                if not app_id.isdigit():
                    continue
                if app.get("message_url") != sms_url:
                    body = {"message_url": sms_url, "message_method": "POST"}
                    url = self._url(f"Application/{app_id}/")
                    self._api.check(await self._api.request("POST", url, json=body))
                return app_id
        body = {"app_name": self.app_name, "message_url": sms_url, "message_method": "POST"}
        response = await self._api.request("POST", self._url("Application/"), json=body)
        self._api.check(response)
        app_id = str(_json(response).get("app_id") or "")
        if not app_id.isdigit():
            raise ProviderRejected(f"{self.name} made an Application without an app_id")
        return app_id

    async def buy_number(
        self, number: AvailableNumber, *, sms_url: str | None, owner: str
    ) -> OwnedNumber:
        digits = number.e164.removeprefix("+")
        if not _DIGITS.fullmatch(digits):
            raise ValidationFailed("not a phone number Plivo sells")
        body = {} if sms_url is None else {"app_id": await self._app_id(sms_url)}
        response = await self._api.request("POST", self._url(f"PhoneNumber/{digits}/"), json=body)
        self._api.check(response)
        status = _json(response).get("status")
        if status not in ("fulfilled", "pending"):
            raise ProviderRejected(f"{self.name} did not say the purchase went through")
        return OwnedNumber(
            e164="+" + digits,
            provider_id=digits,
            capabilities=number.capabilities,
            status=NumberStatus.PENDING if status == "pending" else NumberStatus.ACTIVE,
        )

    async def number_status(self, number: OwnedNumber) -> NumberStatus:
        digits = number.provider_id
        if not digits.isdigit() or not _DIGITS.fullmatch(digits):
            raise ValidationFailed("not a Plivo number")
        response = await self._api.request("GET", self._url(f"Number/{digits}/"))
        if response.status_code == 404:  # not on the account yet: Plivo is still at it
            return NumberStatus.PENDING
        self._api.check(response)
        if _json(response).get("number") != digits:
            raise ProviderRejected(f"{self.name} answered for another number than {digits}")
        return NumberStatus.ACTIVE

    async def release_number(self, number: OwnedNumber) -> None:
        digits = number.provider_id
        if not _DIGITS.fullmatch(digits) or not digits.isdigit():
            raise ValidationFailed("not a Plivo number")
        response = await self._api.request("DELETE", self._url(f"Number/{digits}/"))
        if response.status_code == 404:  # released already
            return
        self._api.check(response)

    def check_signature(self, request: WebhookRequest, account_secret: str | None = None) -> bool:
        nonce = request.header(NONCE)
        return any(
            plivo_v3_valid(self._token, request.url, nonce, request.params, request.header(h))
            for h in SIGNATURES
        )

    def read_sms(self, request: WebhookRequest) -> InboundSms:
        media = tuple(
            value
            for name, value in request.params
            if _MEDIA.fullmatch(name) and value.startswith(("https://", "http://"))
        )
        return read_sms_form(request, ids=("MessageUUID",), text="Text", media=media, e164=e164)


def from_url(url: ProviderUrl, transports: Transports) -> PlivoPhone:
    """The ``plivo://`` factory."""
    url.only_params(("timeout", "app"))
    auth_id, auth_token = url.account(
        "Plivo",
        VENDOR_HOST,
        ("auth id", "auth token"),
        _AUTH_ID,
        "MA or SA followed by 18 letters and digits",
    )
    app = url.query.get("app", DEFAULT_APP)
    if not _APP_NAME.fullmatch(app):
        raise ValidationFailed("plivo:// app is letters, digits, '_' and '-' (at most 64)")
    return PlivoPhone(
        auth_id=auth_id,
        auth_token=auth_token,
        reach=url.reach(f"https://{VENDOR_HOST}", transports),
        app_name=app,
    )
