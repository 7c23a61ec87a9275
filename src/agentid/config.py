"""One settings object, built once (from the environment and CLI flags) and passed down.

Every field is documented in the README's configuration table; a test keeps the two in step.
"""

from __future__ import annotations

import os
import secrets
from enum import StrEnum
from pathlib import Path

from pydantic import Field
from pydantic import IPvAnyNetwork
from pydantic import SecretStr
from pydantic import field_validator
from pydantic_settings import BaseSettings
from pydantic_settings import SettingsConfigDict

from agentid.mime import Limits

MiB = 1024 * 1024
_ASYNC_DRIVERS = ("postgresql+asyncpg://", "sqlite+aiosqlite://")
_SYNC_DRIVERS = ("postgresql+psycopg://", "sqlite://")


def default_parse_processes() -> int:
    """One per core but one, which the SMTP listener, the API and the spool share."""
    return max(1, (os.cpu_count() or 1) - 1)


class BareLineEndings(StrEnum):
    """What the SMTP listener does with a DATA body holding a bare CR or LF."""

    REJECT = "reject"
    NORMALIZE = "normalize"


class DmarcPolicy(StrEnum):
    """``p=`` of the planned DMARC record: start at ``none``, watch the reports, then
    ``quarantine``, then ``reject``."""

    NONE = "none"
    QUARANTINE = "quarantine"
    REJECT = "reject"


MIN_ADMIN_TOKEN = 16  # generated ones have 43 random characters after "aid_admin_"
PLACEHOLDERS = frozenset({"", "CHANGE-ME"})  # deploy/'s example files say CHANGE-ME


class Settings(BaseSettings):
    """agentid's configuration; every field can be set as ``AGENTID_<FIELD>``."""

    model_config = SettingsConfigDict(env_prefix="AGENTID_", extra="ignore")

    data_dir: Path = Field(default=Path("data"), description="Where state lives.")
    host: str = "127.0.0.1"
    http_port: int = Field(default=8400, ge=0, le=65535)
    # Longer than clients' and proxies' own idle expiry (httpx 5 s, nginx upstream 60 s),
    # so that the client, never the server, closes an idle connection: a server closing
    # first races a request the client is sending on it (a ReadError, a proxy's 502).
    http_keep_alive_seconds: int = Field(default=75, gt=0)
    smtp_port: int = Field(default=2525, ge=0, le=65535)
    lmtp_port: int | None = Field(default=None, ge=0, le=65535)  # None: no LMTP over TCP
    lmtp_socket: Path | None = None  # a unix socket LMTP listens on (beside or instead)
    socketmap_port: int | None = Field(default=None, ge=0, le=65535)  # Postfix's lookups
    database_url: str | None = None
    database_schema: str | None = None
    admin_token: SecretStr | None = None
    secret_key: SecretStr | None = None
    previous_secret_keys: SecretStr | None = None  # comma-separated: they still decrypt
    mail_host: str | None = None
    public_ip: str | None = None
    public_ipv6: str | None = None
    shared_domain: str | None = None
    shared_separator: str = Field(default="+", min_length=1, max_length=1)
    smtp_hostname: str = "agentid.local"
    authserv_id: str | None = None
    max_message_bytes: int = Field(default=25 * MiB, gt=0)
    data_memory_bytes: int = Field(default=1 * MiB, ge=0)
    max_recipients: int = Field(default=100, gt=0)
    smtp_command_timeout_seconds: float = Field(default=300.0, gt=0)
    smtp_max_junk_commands: int = Field(default=100, gt=0)
    smtp_max_errors: int = Field(default=20, gt=0)
    smtp_max_connections: int | None = Field(default=None, gt=0)
    smtp_max_connections_per_client: int = Field(default=50, gt=0)
    smtp_connection_limit_exceptions: list[IPvAnyNetwork] = Field(
        default=["127.0.0.0/8", "::1/128"], validate_default=True
    )
    bare_line_endings: BareLineEndings = BareLineEndings.REJECT
    tls_cert: Path | None = None
    tls_key: Path | None = None
    dkim_selector: str = "agentid"
    dmarc_policy: DmarcPolicy = DmarcPolicy.NONE
    spf_include: str | None = None  # the relay's SPF include when it names none itself
    dns_nameservers: str | None = None  # comma-separated host[:port]: what verify asks
    dns_timeout_seconds: float = Field(default=5.0, gt=0)
    # Inbound authentication (agentid.email.inbound.verdicts): SPF, DKIM, DMARC, ARC
    inbound_auth: bool = True
    auth_timeout_seconds: float = Field(default=2.0, gt=0)  # the whole check of a message
    auth_threads: int = Field(default=8, gt=0, le=64)  # checks waiting on DNS at once
    trusted_relays: list[IPvAnyNetwork] = Field(default=[], validate_default=True)
    trusted_arc_sealers: list[str] = Field(default=[])
    parse_processes: int = Field(default_factory=default_parse_processes, ge=0, le=64)
    digest_budget_seconds: float = Field(default=2.0, gt=0)
    max_digest_lag_seconds: float = Field(default=10.0, gt=0)
    max_header_bytes: int = Field(default=256 * 1024, gt=0)
    max_mime_parts: int = Field(default=1000, gt=0)
    max_html_bytes: int = Field(default=2 * MiB, gt=0)
    max_mime_depth: int = Field(default=256, gt=0)
    max_json_body_bytes: int = Field(default=1 * MiB, gt=0)
    max_mail_body_bytes: int = Field(default=10 * MiB, gt=0)
    retention_days: int = Field(default=30, gt=0)
    retention_interval_seconds: float = Field(default=3600.0, gt=0)
    shutdown_grace_seconds: float = Field(default=10.0, ge=0)
    log_level: str = "INFO"
    # Sending (agentid.email.outbound)
    send_concurrency: int = Field(default=8, gt=0, le=256)
    send_max_attempts: int = Field(default=8, gt=0)
    send_retry_seconds: float = Field(default=30.0, gt=0)  # the first retry; doubling
    send_retry_max_seconds: float = Field(default=3600.0, gt=0)
    send_rate_per_minute: int = Field(default=60, gt=0)  # messages a project queues
    warmup_start: int = Field(default=50, gt=0)  # relayed recipients on a domain's first day
    warmup_max: int = Field(default=10_000, gt=0)  # where the doubling daily quota stops
    max_send_attachment_bytes: int = Field(default=10 * MiB, gt=0)
    received_code_window_hours: float = Field(default=24.0, ge=0)
    shared_domain_dkim_key: Path | None = None  # PEM: lets shared-domain projects send
    # Provider URLs (agentid.providers.registry); they carry credentials, hence SecretStr.
    mcp_http: bool = True  # serve MCP at /mcp (the SDK is loaded on the first request)
    relay_url: SecretStr | None = None
    phone_url: SecretStr | None = SecretStr("sandbox://")  # empty: no phone numbers
    dns_url: SecretStr | None = None
    # The HTTPS address providers' webhooks reach (Twilio, Plivo sign it): phone/routes.
    public_url: str | None = None
    phone_gc_inactive_days: int | None = Field(default=None, gt=0)  # daily collector: off
    # Outbound webhooks (agentid.webhooks)
    webhook_allow_private: bool = False  # loopback, private, link-local targets: tests only
    webhook_retry_seconds: float = Field(default=5.0, gt=0)  # the first retry; then x5
    webhook_timeout_seconds: float = Field(default=10.0, gt=0)  # one delivery, DNS included
    operator_webhook_url: str | None = None  # escalations of every project are posted here
    operator_webhook_secret: SecretStr | None = None  # whsec_<base64>: signs those posts
    # wrong tokens a client may present to the API a minute before it is refused (429)
    api_failed_tokens_per_minute: int = Field(default=30, gt=0)
    # The operator's web page (agentid.web): /ui on the API's port, cookie sessions
    ui: bool = True
    ui_session_hours: float = Field(default=12.0, gt=0, le=24 * 30)  # a sign-in lasts this long

    @field_validator("admin_token")
    @classmethod
    def _strong_admin_token(cls, token: SecretStr | None) -> SecretStr | None:
        """The operator token opens every project, the web page's sign-in included: one
        anyone could guess (empty, short, the example files' placeholder) is refused."""
        if token is not None:
            value = token.get_secret_value()
            if len(value.strip()) < MIN_ADMIN_TOKEN or value.strip() != value:
                raise ValueError(
                    f"the admin token must be at least {MIN_ADMIN_TOKEN} characters, without"
                    " spaces around it (unset, one is generated into the data dir)"
                )
        return token

    @field_validator("secret_key")
    @classmethod
    def _secret_key_set(cls, key: SecretStr | None) -> SecretStr | None:
        if key is not None and key.get_secret_value().strip() in PLACEHOLDERS:
            raise ValueError("the secret key is empty or the example's placeholder")
        return key

    def authserv(self) -> str:
        """The authserv-id agentid's Authentication-Results headers carry (RFC 8601)."""
        return self.authserv_id or self.smtp_hostname

    def previous_keys(self) -> list[str]:
        """``AGENTID_PREVIOUS_SECRET_KEYS`` split at commas: keys that still open secrets."""
        if self.previous_secret_keys is None:
            return []
        keys = self.previous_secret_keys.get_secret_value().split(",")
        return [key.strip() for key in keys if key.strip()]

    def mime_limits(self) -> Limits:
        """What one message may cost the MIME reader."""
        return Limits(
            header_bytes=self.max_header_bytes,
            parts=self.max_mime_parts,
            html_bytes=self.max_html_bytes,
            depth=self.max_mime_depth,
        )

    def resolved_database_url(self, *, sync: bool = False) -> str:
        """The SQLAlchemy URL: the given one, or SQLite in the data dir; with an async driver
        (asyncpg, aiosqlite) for the server, or a sync one (psycopg, sqlite3) for the
        threads and processes that write in batches."""
        url = self.database_url or f"sqlite:///{self.data_dir.resolve() / 'agentid.db'}"
        pg, lite = _SYNC_DRIVERS if sync else _ASYNC_DRIVERS
        for plain, driver in (("postgresql://", pg), ("postgres://", pg), ("sqlite://", lite)):
            if url.startswith(plain):
                return driver + url[len(plain) :]
        return url


def private_dir(path: Path) -> None:
    """The data dir: 0700, and every file in it 0600, whatever the umask (files an older
    version left readable are closed too)."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.chmod(0o700)
    for child in path.iterdir():
        if child.is_file() and not child.is_symlink():
            child.chmod(0o600)


def _secret_file(path: Path, make: str) -> str:
    """Read a secret kept in a 0600 file, creating it with ``make`` when absent."""
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process won the race: use its value
        return path.read_text().strip()
    with os.fdopen(fd, "w") as fh:
        fh.write(make + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    return make


def admin_token_path(settings: Settings) -> Path:
    return settings.data_dir / "admin-token"


def load_admin_token(settings: Settings) -> tuple[str, bool]:
    """The operator token, and whether it was read from (or written to) the data dir."""
    if settings.admin_token is not None:
        return settings.admin_token.get_secret_value(), False
    return _secret_file(admin_token_path(settings), "aid_admin_" + secrets.token_urlsafe(32)), True


def load_secret_key(settings: Settings) -> str:
    """The service key that encrypts secrets at rest."""
    if settings.secret_key is not None:
        return settings.secret_key.get_secret_value()
    return _secret_file(settings.data_dir / "secret-key", secrets.token_urlsafe(32))
