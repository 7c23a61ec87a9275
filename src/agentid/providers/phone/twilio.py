"""Numbers from Twilio's REST API (2010-04-01): ``twilio://<sid>:<token>@api.twilio.com``.

``twilio+http://AC...:token@127.0.0.1:9000`` calls a local server speaking the same
contract. ``timeout=S`` bounds each call (default 30). The calls, form-encoded, with the
account sid and auth token as HTTP Basic credentials:

- search: ``GET /2010-04-01/Accounts/{sid}/AvailablePhoneNumbers/{country}/{Local|Mobile|
  TollFree}.json`` with ``SmsEnabled=true``, ``ExcludeAllAddressRequired=true``,
  ``ExcludeLocalAddressRequired=true``, ``ExcludeForeignAddressRequired=true``,
  ``AreaCode`` (local numbers in the US and Canada) and ``PageSize``;
- buy: ``POST /2010-04-01/Accounts/{sid}/IncomingPhoneNumbers.json`` with
  ``PhoneNumber``, ``SmsUrl`` (our webhook), ``SmsMethod=POST`` and ``FriendlyName``;
- release: ``DELETE /2010-04-01/Accounts/{sid}/IncomingPhoneNumbers/{PN sid}.json``
  (204; a 404 means it is gone already);
- with ``lookup=1``, after a purchase: Lookup v2 ``GET https://lookups.twilio.com/v2/
  PhoneNumbers/{number}?Fields=line_type_intelligence`` (with ``+http``, the same local
  server) for the number's line type (``nonFixedVoip``, ``mobile``...). It is optional
  and paid: a Lookup that fails leaves the line type unknown and never fails provisioning.

A failure goes through the one table (``agentid.providers.failures``) with Twilio's own
``code`` and ``message`` as the detail ("21631: Phone Number Requires an Address"), so the
caller sees the provider's code. Inbound SMS reach ``POST /webhooks/twilio/sms``, signed
with the auth token (``agentid.providers.phone.signatures``). Messages never show the token.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from typing import Any

import httpx

from agentid.errors import ProviderError
from agentid.errors import ProviderRejected
from agentid.errors import ValidationFailed
from agentid.providers.base import AvailableNumber
from agentid.providers.base import Capability
from agentid.providers.base import InboundSms
from agentid.providers.base import LineType
from agentid.providers.base import NumberSearch
from agentid.providers.base import NumberStatus
from agentid.providers.base import OwnedNumber
from agentid.providers.base import WebhookRequest
from agentid.providers.phone.signatures import twilio_valid
from agentid.providers.phone.sms_form import read_sms_form
from agentid.providers.registry import HttpReach
from agentid.providers.registry import ProviderUrl
from agentid.providers.registry import Transports
from agentid.providers.vendor_api import VendorApi
from agentid.providers.vendor_api import failure_body

VENDOR_HOST = "api.twilio.com"
LOOKUP_HOST = "lookups.twilio.com"
API = "/2010-04-01"
WEBHOOK_PATH = "/webhooks/twilio/sms"
SIGNATURE = "x-twilio-signature"
log = logging.getLogger("agentid.providers")
_KINDS = {LineType.LOCAL: "Local", LineType.MOBILE: "Mobile", LineType.TOLLFREE: "TollFree"}
_ACCOUNT_SID = re.compile(r"AC[0-9a-fA-F]{32}")
_SID = re.compile(r"[A-Z]{2}[0-9a-fA-F]{32}")
_AREA_CODE = re.compile(r"[0-9]{3}")
MAX_MEDIA = 10  # Twilio delivers at most 10 media items per message


def first_error(response: httpx.Response) -> str | None:
    """What Twilio said about a failure: ``"<code>: <message>"`` from its error body
    ``{"code", "message", "more_info", "status"}``; None for another body."""
    body = failure_body(response)
    if not isinstance(body, dict):
        return None
    code, message = body.get("code"), body.get("message")
    said = str(message) if isinstance(message, str) else ""
    if isinstance(code, int):
        return f"{code}: {said}" if said else str(code)
    return said or None


def _capabilities(raw: Any) -> frozenset[Capability]:
    """Twilio's ``capabilities`` object (``SMS``/``MMS`` on available numbers, ``sms``/
    ``mms`` on owned ones) as a set."""
    if not isinstance(raw, dict):
        return frozenset()
    have = {str(key).lower() for key, value in raw.items() if value is True}
    return frozenset(c for c in Capability if c.value in have)


class TwilioPhone:
    """A ``PhoneProvider`` over Twilio's REST API, through the HTTP client it is given."""

    scheme = "twilio"
    webhook_path = WEBHOOK_PATH

    def __init__(
        self,
        *,
        account_sid: str,
        auth_token: str,
        reach: HttpReach,
        lookup_endpoint: str | None = None,
        subaccounts: bool = False,
    ) -> None:
        self.subaccounts = subaccounts
        self.lookup_endpoint = lookup_endpoint.rstrip("/") if lookup_endpoint else None
        self.account_sid = account_sid
        self._token = auth_token
        self.endpoint = reach.endpoint
        secrets, auth = (auth_token,), (account_sid, auth_token)
        self._api = VendorApi("twilio", reach, first_error, secrets, auth)
        self.name = self._api.name

    def __repr__(self) -> str:  # never the token
        return f"TwilioPhone({self.account_sid!r}, {self.endpoint!r})"

    def _url(self, path: str, account: str | None = None) -> str:
        """``path`` under the main account's resources, or a subaccount's (the main
        account's credentials may act on its subaccounts)."""
        return f"{self.endpoint}{API}/Accounts/{account or self.account_sid}{path}"

    def _accounts(self) -> str:
        """The Accounts list itself (where subaccounts are made)."""
        return f"{self.endpoint}{API}/Accounts.json"

    async def search_numbers(self, wanted: NumberSearch) -> Sequence[AvailableNumber]:
        country, capabilities = wanted.country, wanted.capabilities
        params = {
            "ExcludeAllAddressRequired": "true",
            "ExcludeLocalAddressRequired": "true",
            "ExcludeForeignAddressRequired": "true",
            "PageSize": str(max(1, min(wanted.limit, 50))),
        }
        if Capability.SMS in capabilities:
            params["SmsEnabled"] = "true"
        if Capability.MMS in capabilities:
            params["MmsEnabled"] = "true"
        if wanted.area_code is not None:
            if not _AREA_CODE.fullmatch(wanted.area_code):
                raise ValidationFailed("area_code must be three digits")
            params["AreaCode"] = wanted.area_code
        path = f"/AvailablePhoneNumbers/{country}/{_KINDS[wanted.line_type]}.json"
        response = await self._api.request("GET", self._url(path), params=params)
        self._api.check(response)
        listed = self._api.answered(
            response, "available_phone_numbers", missing="answered a search without numbers"
        )["available_phone_numbers"]
        found = []
        for item in listed if isinstance(listed, list) else []:
            if not isinstance(item, dict) or not isinstance(item.get("phone_number"), str):
                continue
            have = _capabilities(item.get("capabilities"))
            if not capabilities <= have:
                continue
            region = item.get("region")
            found.append(
                AvailableNumber(
                    e164=item["phone_number"],
                    country=str(item.get("iso_country") or country),
                    capabilities=have,
                    region=region if isinstance(region, str) else None,
                )
            )
        return found

    async def buy_number(
        self, number: AvailableNumber, *, sms_url: str | None, owner: str
    ) -> OwnedNumber:
        """Buy ``number``; with ``subaccounts=1`` inside a subaccount made for ``owner``
        (closed again when the purchase fails: nothing is left half-made)."""
        if not self.subaccounts:
            return await self._buy(number, sms_url, owner, None, None)
        account, secret = await self._open_subaccount(owner)
        try:
            return await self._buy(number, sms_url, owner, account, secret)
        except BaseException:
            await self._close_quietly(account)
            raise

    async def _open_subaccount(self, owner: str) -> tuple[str, str]:
        response = await self._api.request(
            "POST", self._accounts(), data={"FriendlyName": f"agentid {owner}"[:64]}
        )
        self._api.check(response)
        body = self._api.answered(
            response, "sid", "auth_token", missing="made a subaccount without its sid"
        )
        account, secret = body["sid"], body["auth_token"]
        if not isinstance(account, str) or not _ACCOUNT_SID.fullmatch(account):
            raise ProviderRejected(f"{self.name} made a subaccount without its sid")
        if not isinstance(secret, str) or not secret:
            raise ProviderRejected(f"{self.name} made a subaccount without its auth token")
        return account, secret

    async def _close(self, account: str) -> None:
        response = await self._api.request(
            "POST", self._url(".json", account), data={"Status": "closed"}
        )
        if response.status_code != 404:
            self._api.check(response)

    async def _close_quietly(self, account: str) -> None:
        try:
            await self._close(account)
        except ProviderError as err:
            log.error("a subaccount could not be closed", extra={"reason": err.message})

    async def _buy(
        self,
        number: AvailableNumber,
        sms_url: str | None,
        owner: str,
        account: str | None,
        secret: str | None,
    ) -> OwnedNumber:
        data = {"PhoneNumber": number.e164, "FriendlyName": f"agentid {owner}"[:64]}
        if sms_url is not None:
            data |= {"SmsUrl": sms_url, "SmsMethod": "POST"}
        response = await self._api.request(
            "POST", self._url("/IncomingPhoneNumbers.json", account), data=data
        )
        self._api.check(response)
        body = self._api.answered(
            response, "sid", "phone_number", missing="answered a purchase without a sid"
        )
        sid, e164 = body["sid"], body["phone_number"]
        if not isinstance(sid, str) or not _SID.fullmatch(sid) or not isinstance(e164, str):
            raise ProviderRejected(f"{self.name} answered a purchase without a sid")
        return OwnedNumber(
            e164=e164,
            provider_id=sid,
            capabilities=_capabilities(body.get("capabilities")) or number.capabilities,
            status=NumberStatus.ACTIVE,
            line_type=await self.line_type(e164),
            account=account,
            account_secret=secret,
        )

    async def line_type(self, e164: str) -> str | None:
        """The number's line type from Lookup v2, when ``lookup=1``; None when off or
        when the Lookup fails (logged without detail: it may not fail a purchase)."""
        if self.lookup_endpoint is None or not e164.startswith("+") or not e164[1:].isdigit():
            return None
        try:
            response = await self._api.request(
                "GET",
                f"{self.lookup_endpoint}/v2/PhoneNumbers/{e164}",
                headers={},
                params={"Fields": "line_type_intelligence"},
            )
            self._api.check(response)
            found = response.json()["line_type_intelligence"]["type"]
        except (ProviderError, ValueError, LookupError, TypeError) as err:
            reason = err.message if isinstance(err, ProviderError) else "an unreadable answer"
            log.info("twilio lookup failed", extra={"reason": reason})
            return None
        return found[:32] if isinstance(found, str) else None

    async def number_status(self, number: OwnedNumber) -> NumberStatus:
        """Twilio sells at once: a number it sold is active."""
        return NumberStatus.ACTIVE

    async def release_number(self, number: OwnedNumber) -> None:
        """Release the number; a subaccount made for it is closed after."""
        if not _SID.fullmatch(number.provider_id):
            raise ValidationFailed("not a Twilio phone number sid")
        account = number.account
        if account is not None and not _ACCOUNT_SID.fullmatch(account):
            raise ValidationFailed("not a Twilio subaccount sid")
        path = f"/IncomingPhoneNumbers/{number.provider_id}.json"
        response = await self._api.request("DELETE", self._url(path, account))
        if response.status_code != 404:  # 404: released already (by hand, or a retry)
            self._api.check(response)
        if account is not None:
            await self._close(account)

    def check_signature(self, request: WebhookRequest, account_secret: str | None = None) -> bool:
        token = account_secret or self._token
        return twilio_valid(token, request.url, request.params, request.header(SIGNATURE))

    def read_sms(self, request: WebhookRequest) -> InboundSms:
        try:
            count = min(int(request.param("NumMedia") or 0), MAX_MEDIA)
        except ValueError:
            count = 0
        media = tuple(
            url for n in range(count) if (url := request.param(f"MediaUrl{n}")) is not None
        )
        return read_sms_form(request, ids=("MessageSid", "SmsSid"), text="Body", media=media)


def from_url(url: ProviderUrl, transports: Transports) -> TwilioPhone:
    """The ``twilio://`` factory."""
    url.only_params(("timeout", "lookup", "subaccounts"))
    account_sid, auth_token = url.account(
        "Twilio",
        VENDOR_HOST,
        ("account sid", "auth token"),
        _ACCOUNT_SID,
        "AC followed by 32 hex digits",
    )
    return TwilioPhone(
        account_sid=account_sid,
        auth_token=auth_token,
        reach=url.reach(f"https://{VENDOR_HOST}", transports),
        lookup_endpoint=url.endpoint(f"https://{LOOKUP_HOST}") if url.flag("lookup") else None,
        subaccounts=bool(url.flag("subaccounts")),
    )
