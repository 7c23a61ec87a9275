"""What sending, phone and DNS features call: one Protocol per kind of provider.

Features import these names, never a vendor module. The app builds the configured
adapters from ``AGENTID_RELAY_URL``, ``AGENTID_PHONE_URL`` and ``AGENTID_DNS_URL``
(``agentid.providers.registry``) and keeps them in ``Runtime.providers``. Every method
that talks to a provider raises only the ``Provider*`` errors of ``agentid.errors``,
translated by the one table in ``agentid.providers.failures``.

Value types are frozen dataclasses: what a provider returns cannot be changed by the
feature that reads it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from datetime import datetime
from enum import StrEnum
from typing import Protocol
from typing import runtime_checkable

from agentid.errors import ValidationFailed

_ISO_COUNTRY = re.compile(r"[A-Z]{2}")

# --- mail relay ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Refusal:
    """One recipient the relay refused while it accepted the message for others."""

    recipient: str
    code: int
    reply: str


@dataclass(frozen=True, slots=True)
class Sent:
    """The relay took the message: its own id for it, when it says one."""

    message_id: str | None
    reply: str | None = None  # the relay's final answer, as it gave it
    refused: tuple[Refusal, ...] = ()


@runtime_checkable
class MailRelay(Protocol):
    """Hands a finished message to a relay (an SMTP smarthost, SendGrid, SES).

    ``max_recipients``: the most envelope recipients one ``send`` takes (SES 50, SendGrid
    1000); the sender splits a longer list into calls of at most that many. ``signs_dkim``:
    the relay signs for the sender's domain itself (SendGrid's and SES's domain
    authentication), so agentid does not; an SMTP relay sends what it gets, so agentid
    signs (``?dkim=relay`` says that one signs).
    """

    max_recipients: int
    signs_dkim: bool

    async def send(self, sender: str, recipients: Sequence[str], message: bytes) -> Sent:
        """Send ``message`` (RFC 5322 bytes, CRLF line ends, signed already) from the
        envelope ``sender`` to the envelope ``recipients``, unchanged."""
        ...


@dataclass(frozen=True, slots=True)
class Bounce:
    """A recipient the relay reports refused for good, after it took the message; or, a
    ``complaint``, one whose reader marked it as spam. No more mail goes to either; a
    complaint leaves the message as it was (it was delivered)."""

    address: str
    provider_message_id: str | None  # the id ``Sent.message_id`` gave, when it says one
    reason: str
    complaint: bool = False


@runtime_checkable
class BounceReports(Protocol):
    """A relay that reports bounces later, to a webhook (SendGrid's Event Webhook, SES
    through an SNS topic)."""

    async def check_bounce_signature(self, request: WebhookRequest, now: datetime) -> bool:
        """True only when the request carries the relay's valid, fresh signature."""
        ...

    async def read_bounces(self, request: WebhookRequest) -> Sequence[Bounce]:
        """The permanent bounces and the complaints in a request whose signature was
        checked; what the report asks in return is done first (SNS's subscription
        confirmation)."""
        ...


@runtime_checkable
class SendingDomain(Protocol):
    """A relay that signs mail as the sender's domain once the domain is set up with it
    (SES Easy DKIM, SendGrid's domain authentication), and lists its servers in SPF."""

    spf_include: str  # the domain SPF includes for its servers: amazonses.com, sendgrid.net

    async def domain_records(self, domain: str) -> Sequence[DnsRecord]:
        """Set ``domain`` up with the relay (again: idempotent) and answer the DNS records
        it needs published (its DKIM CNAMEs)."""
        ...


# --- phone -------------------------------------------------------------------------------


class Capability(StrEnum):
    SMS = "sms"
    MMS = "mms"
    VOICE = "voice"


class LineType(StrEnum):
    """The kind of number searched for (the providers' own words differ: Twilio's
    ``Local``/``Mobile``/``TollFree``, Plivo's ``local``/``mobile``/``tollfree``)."""

    LOCAL = "local"
    MOBILE = "mobile"
    TOLLFREE = "tollfree"


class NumberStatus(StrEnum):
    """Where a number stands: ``pending`` while the provider completes the purchase (Plivo
    may take time), ``active`` once it receives SMS, ``released`` once given back."""

    PENDING = "pending"
    ACTIVE = "active"
    RELEASED = "released"


@dataclass(frozen=True, slots=True)
class NumberSearch:
    """One number search: numbers for sale in ``country`` (an ISO 3166-1 alpha-2 code,
    checked here, so every provider gets a valid one) having every one of
    ``capabilities``; local numbers, any area code, ten at most unless told."""

    country: str
    capabilities: frozenset[Capability]
    line_type: LineType = LineType.LOCAL
    area_code: str | None = None
    limit: int = 10

    def __post_init__(self) -> None:
        if not _ISO_COUNTRY.fullmatch(self.country):
            raise ValidationFailed("country must be two upper-case letters (ISO 3166-1)")


@dataclass(frozen=True, slots=True)
class AvailableNumber:
    """A number the provider offers for sale."""

    e164: str
    country: str  # ISO 3166-1 alpha-2, upper case
    capabilities: frozenset[Capability]
    region: str | None = None
    monthly_cost: str | None = None  # as the provider states it, e.g. "1.15 USD"


@dataclass(frozen=True, slots=True)
class OwnedNumber:
    """A number bought through the provider; ``provider_id`` is its handle there (Twilio's
    ``PN...`` sid, Plivo's number itself). ``account`` is the sub-account made for it (a
    Twilio subaccount's sid) and ``account_secret`` that account's own token, which signs
    the number's webhooks: stored sealed, never shown."""

    e164: str
    provider_id: str
    capabilities: frozenset[Capability] = frozenset()
    status: NumberStatus = NumberStatus.ACTIVE
    line_type: str | None = None  # what the provider says the number is, when it says
    account: str | None = None
    account_secret: str | None = field(default=None, repr=False)


@dataclass(frozen=True, slots=True)
class WebhookRequest:
    """An HTTP request a provider sent us, as its signature covers it.

    ``url`` is the full URL the provider called (scheme, host, path and query as it saw
    them: the public one, not the one the server was reached at); ``params`` the form
    fields in the order they came; ``headers`` the headers with lower-case names.
    """

    method: str
    url: str
    headers: tuple[tuple[str, str], ...]
    body: bytes
    params: tuple[tuple[str, str], ...] = ()

    def header(self, name: str) -> str | None:
        wanted = name.lower()
        return next((value for key, value in self.headers if key == wanted), None)

    def param(self, name: str) -> str | None:
        return next((value for key, value in self.params if key == name), None)


@dataclass(frozen=True, slots=True)
class InboundSms:
    """One text message a provider delivered to one of our numbers. ``params`` keeps every
    field the provider sent (providers add new ones); ``media`` the MMS media URLs."""

    from_number: str  # E.164 when the provider gave a number; a sender id otherwise
    to_number: str  # E.164, ours
    body: str
    provider_id: str  # the provider's id of the message: the key that makes storing idempotent
    received_at: datetime  # timezone-aware
    media: tuple[str, ...] = ()
    params: tuple[tuple[str, str], ...] = ()


@runtime_checkable
class PhoneProvider(Protocol):
    """Buys numbers whose inbound SMS are POSTed to us, releases them, and checks and
    reads what it delivers. ``scheme`` names it (``twilio``, ``plivo``, ``sandbox``);
    ``webhook_path`` is the route its SMS webhooks reach (None: it sends none)."""

    @property
    def scheme(self) -> str: ...

    @property
    def webhook_path(self) -> str | None: ...

    async def search_numbers(self, wanted: NumberSearch) -> Sequence[AvailableNumber]:
        """The numbers for sale that ``wanted`` asks for (at most ``wanted.limit``)."""
        ...

    async def buy_number(
        self, number: AvailableNumber, *, sms_url: str | None, owner: str
    ) -> OwnedNumber:
        """Buy ``number`` with its inbound SMS POSTed to ``sms_url``; ``owner`` names the
        project it is for (a sub-account's or an application's name)."""
        ...

    async def release_number(self, number: OwnedNumber) -> None:
        """Give the number back; one already gone counts as released."""
        ...

    async def number_status(self, number: OwnedNumber) -> NumberStatus:
        """Where a bought number stands now: ``pending`` until the provider completes the
        purchase, then ``active`` (asked again for a number bought ``pending``)."""
        ...

    def check_signature(self, request: WebhookRequest, account_secret: str | None = None) -> bool:
        """True only when the request carries the provider's valid signature (made with
        ``account_secret`` when the number belongs to a sub-account)."""
        ...

    def read_sms(self, request: WebhookRequest) -> InboundSms:
        """The SMS in a webhook request whose signature was checked (``ValidationFailed``
        when it lacks what an SMS has)."""
        ...


# --- DNS ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DnsRecord:
    """One resource record. ``name`` is absolute without the final dot
    (``_dmarc.acme.test``); a target in ``value`` (MX, CNAME, NS) likewise; a TXT
    ``value`` is the text itself, unquoted and unsplit; ``priority`` is MX's only.
    ``id`` is the provider's handle on the record where it has one (Cloudflare's record
    id); it takes no part in equality."""

    name: str
    type: str  # upper case: A, AAAA, CNAME, MX, TXT, ...
    value: str
    ttl: int = 3600
    priority: int | None = None
    id: str | None = field(default=None, compare=False)

    def same(self, other: DnsRecord) -> bool:
        """The same data (name, type, value, priority), whatever the TTL and id: names,
        targets and addresses compared without case, TXT text exactly."""
        if (self.name.lower(), self.type.upper(), self.priority) != (
            other.name.lower(),
            other.type.upper(),
            other.priority,
        ):
            return False
        if self.type.upper() == "TXT":
            return self.value == other.value
        return self.value.lower().removesuffix(".") == other.value.lower().removesuffix(".")


class DnsAction(StrEnum):
    CREATE = "create"
    UPDATE = "update"  # ``old`` becomes ``record``
    DELETE = "delete"


@dataclass(frozen=True, slots=True)
class DnsChange:
    """One change to a zone: ``record`` is what is to exist (create, update) or to go
    (delete, as ``read_records`` gave it, id and all); ``old`` is what an update replaces."""

    action: DnsAction
    record: DnsRecord
    old: DnsRecord | None = None


@dataclass(frozen=True, slots=True)
class DnsChanged:
    """What became of one change: ``record`` as the provider now holds it (with its id),
    None when it was deleted or failed; ``error`` the provider's reason when it failed."""

    change: DnsChange
    record: DnsRecord | None
    error: str | None = None


@runtime_checkable
class DnsProvider(Protocol):
    """Reads and changes the records of zones the operator handed agentid.

    Applying is not transactional: ``change`` makes each change on its own and says what
    became of each, in order; it raises only when it could do none of them (the zone is
    gone, the credentials are refused before anything was tried)."""

    async def find_zone(self, domain: str) -> str:
        """The zone holding ``domain`` (itself or the closest parent the account sees);
        ``ProviderRejected`` naming the domain when the account sees none."""
        ...

    async def read_records(self, zone: str) -> Sequence[DnsRecord]:
        """Every record of the zone, with the provider's ids where it has them."""
        ...

    async def change(self, zone: str, changes: Sequence[DnsChange]) -> Sequence[DnsChanged]:
        """Make ``changes``, each on its own; one ``DnsChanged`` per change, in order."""
        ...


# --- what the app was configured with ------------------------------------------------------


@dataclass(slots=True)
class Providers:
    """The adapters the settings name; ``None`` where the feature is off."""

    relay: MailRelay | None = None
    phone: PhoneProvider | None = None
    dns: DnsProvider | None = None
