"""Provider URLs → adapters: one map from URL scheme to factory.

``register(scheme, factory)`` is the one door: the built-in adapters go through it in
``register_builtins()`` (called by ``create_app``, never at import), and a third-party
adapter registers the same way before the app is built. A factory takes the parsed
``ProviderUrl`` and the ``Transports`` made outside it (the shared ``httpx.AsyncClient``,
the SMTP client factory), checks what it needs from the URL, and returns an adapter
without doing any I/O.

A URL is ``scheme[+http]://[user[:password]@]host[:port][/path][?query]``, credentials
percent-encoded. ``+http`` points an HTTP adapter at a local server speaking the vendor's
contract (``twilio+http://sid:token@127.0.0.1:9000``) instead of the vendor's https
endpoint. Errors say what is wrong with a URL without ever repeating it: a URL carries
credentials.
"""

from __future__ import annotations

import functools
import importlib
import re
import ssl
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from typing import TYPE_CHECKING
from typing import Any
from typing import Protocol
from typing import TypeVar
from urllib.parse import parse_qsl
from urllib.parse import unquote
from urllib.parse import urlsplit

from pydantic import SecretStr

from agentid.config import Settings
from agentid.errors import ValidationFailed
from agentid.providers.base import DnsProvider
from agentid.providers.base import MailRelay
from agentid.providers.base import PhoneProvider
from agentid.providers.base import Providers

if TYPE_CHECKING:  # imported where first used: a service that never calls out loads neither
    import aiosmtplib
    import httpx

Provider = MailRelay | PhoneProvider | DnsProvider
HTTP_TIMEOUT_SECONDS = 30.0
_SCHEME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-.")


@dataclass(frozen=True, slots=True)
class ProviderUrl:
    """A parsed provider URL; ``username`` and ``password`` percent-decoded."""

    scheme: str  # without "+http"
    http: bool  # the "+http" override: plain HTTP to host:port instead of the vendor
    username: str | None = field(default=None, repr=False)
    password: str | None = field(default=None, repr=False)
    host: str | None = None
    port: int | None = None
    path: str = ""
    query: Mapping[str, str] = field(default_factory=dict)

    def secrets(self) -> tuple[str, ...]:
        """What messages about this URL must never show."""
        return tuple(s for s in (self.password, self.username) if s)

    def need_host(self) -> str:
        if not self.host:
            raise ValidationFailed(f"{self.scheme}:// needs a host")
        return self.host

    def no_http_override(self) -> None:
        if self.http:
            raise ValidationFailed(f"{self.scheme}:// does not speak HTTP: drop '+http'")

    def only_params(self, allowed: Iterable[str]) -> None:
        """Refuse query parameters the adapter does not know (a typo is an error)."""
        allowed = set(allowed)
        if unknown := sorted(set(self.query) - allowed):
            known = ", ".join(sorted(allowed)) or "none"
            raise ValidationFailed(
                f"{self.scheme}:// takes no query parameter {unknown[0]!r} (known: {known})"
            )

    def flag(self, name: str, default: bool | None = None) -> bool | None:
        """A yes/no query parameter: 1/true/yes or 0/false/no; ``default`` when absent."""
        value = self.query.get(name)
        if value is None:
            return default
        if value.lower() in ("1", "true", "yes", "on"):
            return True
        if value.lower() in ("0", "false", "no", "off"):
            return False
        raise ValidationFailed(f"{self.scheme}:// query parameter {name!r} must be 1 or 0")

    def number(self, name: str, default: float) -> float:
        value = self.query.get(name)
        if value is None:
            return default
        try:
            number = float(value)
        except ValueError:
            number = -1.0
        if not number > 0:
            raise ValidationFailed(f"{self.scheme}:// query parameter {name!r} must be > 0")
        return number

    def whole(self, name: str, default: int) -> int:
        """A whole-number query parameter, at least 1; ``default`` when absent."""
        value = self.query.get(name)
        if value is None:
            return default
        if not value.isascii() or not value.isdigit() or len(value) > 9 or int(value) < 1:
            raise ValidationFailed(
                f"{self.scheme}:// query parameter {name!r} must be a whole number > 0"
            )
        return int(value)

    def account(
        self, vendor: str, host: str, names: tuple[str, str], id_form: re.Pattern[str], rule: str
    ) -> tuple[str, str]:
        """The account id and auth token of ``<scheme>://<id>:<token>@<host>`` (``names``
        says what the vendor calls them): both given, the id in the vendor's form (``rule``
        describes ``id_form``), the token printable ASCII, and the host the vendor's own,
        with no port or path, unless ``+http`` points at a local server."""
        user, token = names
        if not self.username or not self.password:
            raise ValidationFailed(
                f"{self.scheme}:// needs the {user} and {token}:"
                f" {self.scheme}://<{user}>:<{token}>@{host}"
            )
        if not id_form.fullmatch(self.username):
            raise ValidationFailed(f"a {vendor} {user} is {rule}")
        if not self.password.isascii() or not self.password.isprintable():
            raise ValidationFailed(f"a {vendor} {token} is printable ASCII")
        if not self.http and (
            self.host != host or self.port is not None or self.path not in ("", "/")
        ):
            raise ValidationFailed(
                f"{self.scheme}:// host must be {host} with no port or path"
                f" ({self.scheme}+http:// for a local server)"
            )
        return self.username, self.password

    def reach(self, vendor: str, transports: Transports) -> HttpReach:
        """How an HTTP adapter calls its vendor: ``endpoint(vendor)``, the shared client,
        and the ``?timeout=`` seconds (default 30) each call may take."""
        return HttpReach(
            self.endpoint(vendor), transports.http, self.number("timeout", HTTP_TIMEOUT_SECONDS)
        )

    def endpoint(self, vendor: str) -> str:
        """The base URL an HTTP adapter calls: the vendor's, or with ``+http`` the local
        ``http://host:port/path`` the URL names."""
        if not self.http:
            return vendor
        host = self.need_host()
        host = f"[{host}]" if ":" in host else host
        port = f":{self.port}" if self.port else ""
        return f"http://{host}{port}{self.path.rstrip('/')}"


@dataclass(frozen=True, slots=True)
class HttpReach:
    """Where an HTTP adapter's calls go (its base URL, without a trailing "/"), through
    which client, and how long each may take."""

    endpoint: str
    http: httpx.AsyncClient
    timeout: float


def parse_url(raw: str) -> ProviderUrl:
    """Parse a provider URL; ``ValidationFailed`` (never repeating the URL) when malformed."""
    if any(ch.isspace() or not ch.isprintable() for ch in raw):
        raise ValidationFailed("a provider URL holds no spaces or control characters")
    try:
        parts = urlsplit(raw)
    except ValueError:
        raise ValidationFailed("not a valid URL") from None
    scheme = parts.scheme.lower()
    if not scheme or ":" not in raw:
        raise ValidationFailed("not a URL: expected scheme://[user:password@]host[:port]")
    base, plus, transport = scheme.partition("+")
    if plus and transport != "http":
        raise ValidationFailed(f"unknown transport '+{transport}' (only '+http' is known)")
    if parts.fragment:
        raise ValidationFailed("a provider URL takes no #fragment")
    try:
        port = parts.port
    except ValueError:
        raise ValidationFailed("the port must be a number from 1 to 65535") from None
    if port == 0:
        raise ValidationFailed("the port must be a number from 1 to 65535")
    if port is not None and not parts.hostname:
        raise ValidationFailed("a port was given without a host")
    userinfo = parts.netloc.rpartition("@")[0] if "@" in parts.netloc else None
    username, password = None, None
    if userinfo is not None:
        user, colon, secret = userinfo.partition(":")
        username = unquote(user) or None
        password = unquote(secret) if colon else None
    query: dict[str, str] = {}
    for name, value in parse_qsl(parts.query, keep_blank_values=True):
        if name in query:
            raise ValidationFailed(f"query parameter {name!r} is given twice")
        query[name] = value
    url = ProviderUrl(
        scheme=base,
        http=bool(plus),
        username=username,
        password=password,
        host=parts.hostname or None,
        port=port,
        path=unquote(parts.path),
        query=query,
    )
    if url.http and not url.host:
        raise ValidationFailed("'+http' needs the local server's host:port")
    return url


class SmtpClientFactory(Protocol):
    """Makes the SMTP client a relay talks through (``aiosmtplib.SMTP`` or the like)."""

    def __call__(
        self,
        *,
        hostname: str,
        port: int,
        username: str | None,
        password: str | None,
        start_tls: bool | None,
        timeout: float,
        use_tls: bool = False,
    ) -> aiosmtplib.SMTP: ...


@dataclass(frozen=True, slots=True)
class AioSmtpClients:
    """The SMTP client factory of a running agentid: ``aiosmtplib.SMTP``, imported when the
    first relay connects, greeting as ``local_hostname`` (the OS's name when None)."""

    local_hostname: str | None = None

    def __call__(self, **options: Any) -> aiosmtplib.SMTP:
        """``aiosmtplib.SMTP`` with ``SmtpClientFactory``'s arguments, verifying the relay's
        certificate against the system's CAs."""
        import aiosmtplib

        options.setdefault("tls_context", client_tls())
        return aiosmtplib.SMTP(local_hostname=self.local_hostname, **options)


@functools.cache
def client_tls() -> ssl.SSLContext:
    """One TLS context for every relay connection: making one reads and parses the CA
    bundle (about 20 ms, in the event loop), which aiosmtplib did for each connection."""
    return ssl.create_default_context()


class Transports:
    """What adapters talk through, made outside them: tests hand in their own. The
    HTTP client is made when an adapter first asks for it, and closed by ``aclose``
    only when it was made here."""

    def __init__(
        self,
        *,
        http: httpx.AsyncClient | None = None,
        smtp: SmtpClientFactory = AioSmtpClients(),
    ) -> None:
        self._http = http
        self._owns_http = http is None
        self.smtp = smtp

    @property
    def http(self) -> httpx.AsyncClient:
        if self._http is None:
            import httpx

            self._http = httpx.AsyncClient(timeout=HTTP_TIMEOUT_SECONDS, follow_redirects=False)
        return self._http

    async def aclose(self) -> None:
        if self._owns_http and self._http is not None:
            await self._http.aclose()
            self._http = None


ProviderFactory = Callable[[ProviderUrl, Transports], Provider]


class Registry:
    """Scheme → factory. ``register`` the same factory twice is a no-op; another one
    for a taken scheme is refused (``replace=True`` to override a built-in)."""

    def __init__(self) -> None:
        self._factories: dict[str, ProviderFactory] = {}

    def register(self, scheme: str, factory: ProviderFactory, *, replace: bool = False) -> None:
        if not scheme or not set(scheme) <= _SCHEME_CHARS or not scheme[0].isalpha():
            raise ValueError(
                f"a provider scheme is lower-case letters, digits, '-', '.': {scheme!r}"
            )
        taken = self._factories.get(scheme)
        if taken is not None and taken is not factory and not replace:
            raise ValueError(f"provider scheme {scheme!r} is already registered")
        self._factories[scheme] = factory

    def schemes(self) -> list[str]:
        return sorted(self._factories)

    def build(self, raw: str, transports: Transports) -> Provider:
        """The adapter a URL names; ``ValidationFailed`` when it names none."""
        url = parse_url(raw)
        factory = self._factories.get(url.scheme)
        if factory is None:
            known = ", ".join(self.schemes()) or "none"
            raise ValidationFailed(f"unknown provider scheme {url.scheme!r} (known: {known})")
        return factory(url, transports)

    def relay(self, raw: str, transports: Transports) -> MailRelay:
        provider = self.build(raw, transports)
        if not isinstance(provider, MailRelay):
            raise ValidationFailed(f"{parse_url(raw).scheme}:// is not a mail relay")
        return provider

    def phone(self, raw: str, transports: Transports) -> PhoneProvider:
        provider = self.build(raw, transports)
        if not isinstance(provider, PhoneProvider):
            raise ValidationFailed(f"{parse_url(raw).scheme}:// is not a phone provider")
        return provider

    def dns(self, raw: str, transports: Transports) -> DnsProvider:
        provider = self.build(raw, transports)
        if not isinstance(provider, DnsProvider):
            raise ValidationFailed(f"{parse_url(raw).scheme}:// is not a DNS provider")
        return provider


REGISTRY = Registry()


def register(scheme: str, factory: ProviderFactory, *, replace: bool = False) -> None:
    """Make ``scheme://`` URLs build adapters with ``factory`` (built-ins and plugins)."""
    REGISTRY.register(scheme, factory, replace=replace)


class _Lazy:
    """A built-in factory whose module is imported on its first use, not at start: the
    vendor modules (SendGrid's, SES's with boto3) cost only a process that uses them."""

    __slots__ = ("module",)

    def __init__(self, module: str) -> None:
        self.module = module

    def __call__(self, url: ProviderUrl, transports: Transports) -> Provider:
        factory: ProviderFactory = importlib.import_module(self.module).from_url
        return factory(url, transports)

    def __repr__(self) -> str:
        return f"{self.module}.from_url"


_SMTP = _Lazy("agentid.providers.mail.smtp")
BUILTINS: Mapping[str, ProviderFactory] = {
    "plivo": _Lazy("agentid.providers.phone.plivo"),
    "sandbox": _Lazy("agentid.providers.phone.sandbox"),
    "twilio": _Lazy("agentid.providers.phone.twilio"),
    "ses": _Lazy("agentid.providers.mail.ses"),
    "smtp": _SMTP,
    "smtps": _SMTP,
    "sendgrid": _Lazy("agentid.providers.mail.sendgrid"),
    "zonefile": _Lazy("agentid.providers.dns.zonefile"),
    "cloudflare": _Lazy("agentid.providers.dns.cloudflare"),
    "route53": _Lazy("agentid.providers.dns.route53"),
}


def register_builtins(registry: Registry = REGISTRY) -> None:
    """The adapters agentid ships, through the same door as anyone's; each module is
    imported when a URL first names its scheme."""
    for scheme, factory in BUILTINS.items():
        registry.register(scheme, factory)


def default_transports(settings: Settings) -> Transports:
    """Transports for a running agentid: SMTP clients greet as ``AGENTID_SMTP_HOSTNAME``."""
    return Transports(smtp=AioSmtpClients(local_hostname=settings.smtp_hostname))


def from_settings(
    settings: Settings, transports: Transports, registry: Registry = REGISTRY
) -> Providers:
    """The adapters ``AGENTID_RELAY_URL``, ``AGENTID_PHONE_URL`` and ``AGENTID_DNS_URL``
    name. A bad URL is one ``ValidationFailed`` naming the setting (not its value)."""
    return Providers(
        relay=_setting(settings.relay_url, "AGENTID_RELAY_URL", registry.relay, transports),
        phone=_setting(settings.phone_url, "AGENTID_PHONE_URL", registry.phone, transports),
        dns=_setting(settings.dns_url, "AGENTID_DNS_URL", registry.dns, transports),
    )


_P = TypeVar("_P")


def _setting(
    value: SecretStr | None,
    variable: str,
    build: Callable[[str, Transports], _P],
    transports: Transports,
) -> _P | None:
    if value is None or not value.get_secret_value():  # unset or empty: the feature is off
        return None
    try:
        return build(value.get_secret_value(), transports)
    except ValidationFailed as err:
        raise ValidationFailed(f"invalid setting {variable}: {err.message}") from None
