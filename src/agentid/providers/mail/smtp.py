"""Sending through an SMTP relay (a smarthost): ``smtp://[user:password@]host[:port]``, or
``smtps://`` for implicit TLS (port 465 by default).

Query parameters: ``starttls=1`` requires STARTTLS, ``starttls=0`` never tries it; absent,
STARTTLS is required when credentials are given (a password never crosses in clear) and
used when offered otherwise. ``timeout=S`` bounds each step (default 60). ``dkim=agentid``
(the default: an SMTP relay sends what it gets) or ``dkim=relay`` (it signs for us) says
who signs. ``max_recipients=N`` (default 100, RFC 5321's minimum a server must take) is
the most RCPTs one transaction carries: the outbox splits longer lists. The port defaults
to 587 with credentials, 25 without. One connection per call: the relay queues, agentid's
outbox retries.

The message goes out byte for byte as given (already signed); the relay's DATA reply is
kept, and its queue id (``... queued as ABC123``) becomes ``Sent.message_id``. Refused
recipients are each reported with their own reply (``Sent.refused``), every one of them
refused included: a 550 for one address and a 450 for another are not the same verdict. A
non-ASCII address is sent with SMTPUTF8, refused (ProviderRejected) by a relay without it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import partial

import aiosmtplib

from agentid.errors import ProviderRejected
from agentid.errors import ValidationFailed
from agentid.providers.base import Refusal
from agentid.providers.base import Sent
from agentid.providers.failures import map_failures
from agentid.providers.registry import ProviderUrl
from agentid.providers.registry import SmtpClientFactory
from agentid.providers.registry import Transports

DEFAULT_TIMEOUT_SECONDS = 60.0
DEFAULT_MAX_RECIPIENTS = 100
_QUEUE_ID = re.compile(r"(?i)\bqueued as\s+<?([^\s<>]+)>?")


class SmtpRelay:
    """A ``MailRelay`` over SMTP, through the client factory it is given."""

    def __init__(
        self,
        *,
        host: str,
        port: int,
        connect: SmtpClientFactory,
        username: str | None = None,
        password: str | None = None,
        start_tls: bool | None = None,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
        use_tls: bool = False,
        max_recipients: int = DEFAULT_MAX_RECIPIENTS,
        signs_dkim: bool = False,
    ) -> None:
        self.host, self.port = host, port
        self.max_recipients = max_recipients
        self.signs_dkim = signs_dkim
        self._username, self._password = username, password
        self._use_tls = use_tls
        # a new client per send, always with this relay's options
        self._client = partial(
            connect,
            hostname=host,
            port=port,
            username=username,
            password=password,
            start_tls=start_tls,
            timeout=timeout,
            **({"use_tls": True} if use_tls else {}),
        )

    @property
    def name(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{'smtps' if self._use_tls else 'smtp'} relay {host}:{self.port}"

    def __repr__(self) -> str:  # never the credentials
        return f"SmtpRelay({self.host!r}, {self.port})"

    async def send(self, sender: str, recipients: Sequence[str], message: bytes) -> Sent:
        if not recipients:
            raise ProviderRejected(f"{self.name}: a message needs at least one recipient")
        secrets = (self._password, self._username)
        with map_failures(self.name, secrets=secrets):
            client = self._client()
            # RFC 6531: a non-ASCII address needs the relay's SMTPUTF8.
            utf8 = not all(address.isascii() for address in (sender, *recipients))
            async with client:
                try:
                    errors, reply = await client.sendmail(
                        sender, list(recipients), message,
                        mail_options=["SMTPUTF8"] if utf8 else [],
                    )  # fmt: skip
                except aiosmtplib.SMTPRecipientsRefused as everyone:  # every one: say each
                    return Sent(
                        message_id=None,
                        refused=tuple(
                            Refusal(r.recipient, r.code, r.message) for r in everyone.recipients
                        ),
                    )
        refused = tuple(
            Refusal(recipient, response.code, response.message)
            for recipient, response in errors.items()
        )
        found = _QUEUE_ID.search(reply)
        return Sent(message_id=found.group(1) if found else None, reply=reply, refused=refused)


def from_url(url: ProviderUrl, transports: Transports) -> SmtpRelay:
    """The ``smtp://`` and ``smtps://`` factory."""
    url.no_http_override()
    url.only_params(("starttls", "timeout", "dkim", "max_recipients"))
    host = url.need_host()
    if url.path not in ("", "/"):
        raise ValidationFailed(f"{url.scheme}:// takes no path")
    if (url.username is None) != (url.password is None):
        raise ValidationFailed(f"{url.scheme}:// credentials are user:password, both or neither")
    if url.query.get("dkim", "agentid") not in ("agentid", "relay"):
        raise ValidationFailed(f"{url.scheme}:// query parameter 'dkim' is agentid or relay")
    with_login = url.username is not None
    implicit = url.scheme == "smtps"
    if implicit and "starttls" in url.query:
        raise ValidationFailed("smtps:// is TLS from the first byte: starttls does not apply")
    return SmtpRelay(
        host=host,
        port=url.port or (465 if implicit else 587 if with_login else 25),
        connect=transports.smtp,
        username=url.username,
        password=url.password,
        start_tls=False if implicit else url.flag("starttls", default=True if with_login else None),
        timeout=url.number("timeout", DEFAULT_TIMEOUT_SECONDS),
        use_tls=implicit,
        max_recipients=url.whole("max_recipients", DEFAULT_MAX_RECIPIENTS),
        signs_dkim=url.query.get("dkim") == "relay",
    )
