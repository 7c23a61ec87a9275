"""The sandbox phone provider, ``sandbox://`` (the default): numbers with no network.

Its numbers are from the range set aside for fiction, ``+1 <area> 555 01xx`` (area code
``area=NNN`` in the URL, default 555, or the one a search asks for), so none of them
reaches anyone. Nothing is bought or released anywhere; inbound SMS are injected by the
operator (``POST /sandbox/sms``, ``agentid phone inject``), which is why the sandbox signs
no webhooks: ``check_signature`` is always False.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence

from agentid.errors import ValidationFailed
from agentid.providers.base import AvailableNumber
from agentid.providers.base import Capability
from agentid.providers.base import InboundSms
from agentid.providers.base import NumberSearch
from agentid.providers.base import NumberStatus
from agentid.providers.base import OwnedNumber
from agentid.providers.base import WebhookRequest
from agentid.providers.registry import ProviderUrl
from agentid.providers.registry import Transports

_AREA = re.compile(r"[2-9][0-9]{2}")
CAPABILITIES = frozenset({Capability.SMS, Capability.MMS, Capability.VOICE})


def fictional(area: str, line: int) -> str:
    """``+1 <area> 555 01xx``, xx = ``line`` (0-99)."""
    return f"+1{area}55501{line:02d}"


class SandboxPhone:
    """A ``PhoneProvider`` that only pretends: fictional numbers, no network."""

    scheme = "sandbox"
    webhook_path = None

    def __init__(self, area: str = "555") -> None:
        self.area = area
        self._random = random.SystemRandom()

    def __repr__(self) -> str:
        return f"SandboxPhone(area={self.area!r})"

    async def search_numbers(self, wanted: NumberSearch) -> Sequence[AvailableNumber]:
        if wanted.country != "US":
            return []  # the fictional range is North American
        area = wanted.area_code or self.area
        if not _AREA.fullmatch(area):
            raise ValidationFailed("area_code must be three digits, the first 2-9")
        lines = self._random.sample(range(100), k=max(1, min(wanted.limit, 100)))
        return [
            AvailableNumber(fictional(area, n), "US", CAPABILITIES, region="Sandbox") for n in lines
        ]

    async def buy_number(
        self, number: AvailableNumber, *, sms_url: str | None, owner: str
    ) -> OwnedNumber:
        return OwnedNumber(
            e164=number.e164,
            provider_id="SB" + number.e164.removeprefix("+"),
            capabilities=number.capabilities,
            status=NumberStatus.ACTIVE,
            line_type="sandbox",
        )

    async def release_number(self, number: OwnedNumber) -> None:
        return None

    async def number_status(self, number: OwnedNumber) -> NumberStatus:
        return NumberStatus.ACTIVE  # sold at once

    def check_signature(self, request: WebhookRequest, account_secret: str | None = None) -> bool:
        return False  # nothing signs for the sandbox: SMS are injected by the operator

    def read_sms(self, request: WebhookRequest) -> InboundSms:
        raise ValidationFailed("the sandbox takes SMS from POST /sandbox/sms only")


def from_url(url: ProviderUrl, transports: Transports) -> SandboxPhone:
    """The ``sandbox://`` factory."""
    url.no_http_override()
    url.only_params(("area",))
    if url.host or url.port or url.username or url.password or url.path not in ("", "/"):
        raise ValidationFailed("sandbox:// takes no host, credentials or path: sandbox://")
    area = url.query.get("area", "555")
    if not _AREA.fullmatch(area):
        raise ValidationFailed("sandbox:// area must be three digits, the first 2-9")
    return SandboxPhone(area)
