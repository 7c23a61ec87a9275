"""Sending through Amazon SES (the v2 API's SendEmail): ``ses://[KEYID:SECRET@]<region>``.

``ses://eu-west-1`` signs with the standard AWS credential chain (environment variables, a
profile, the instance or task role); ``ses://KEYID:SECRET@eu-west-1`` with the key given.
``ses+http://127.0.0.1:4566?region=us-east-1`` sends to a local server speaking the SES v2
API (moto, LocalStack) instead. Query parameters: ``configuration_set=NAME`` sends under
that configuration set (its event destinations, its IP pool); ``timeout=S`` bounds the
connection and each read (default 30). ``region`` is for ``+http`` only.
``sns_topic=ARN[,ARN]``: the SNS topics SES reports bounces to, so the messages they post
to the mail webhook are believed (``agentid.providers.mail.ses_events``); without it, a
report is refused.

The message goes as raw content, as given; the envelope recipients are the
``Destination``, so a Bcc recipient is in the envelope and never in a header. SES's
MessageId becomes ``Sent.message_id``. ``domain_records`` makes the sending domain an SES
identity (CreateEmailIdentity, or GetEmailIdentity when it is one already) and answers
its Easy DKIM CNAMEs for the DNS plan. SES takes at most 50 recipients a message and
refuses more (ProviderRejected). SES adds its own DKIM-Signature (d=amazonses.com)
and may set Message-ID and Date, so a signature made before sending must not cover
Message-ID, Date, Return-Path or Bounces-To (SES's guide to manual DKIM signing).

boto3 blocks: each call runs in a worker thread (``asyncio.to_thread``) on one botocore
client, made on the first send (finding credentials may read files or ask the instance
metadata service, which a factory must not do) and shared after (botocore clients are
thread-safe). botocore does not retry: a failed call is one mapped error at once
(``agentid.providers.failures``) and agentid's outbox decides when to try again.
"""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING
from typing import Any

from agentid.errors import ProviderRejected
from agentid.errors import ValidationFailed
from agentid.providers.aws import AwsAccess
from agentid.providers.aws import aws_access
from agentid.providers.base import Bounce
from agentid.providers.base import DnsRecord
from agentid.providers.base import Sent
from agentid.providers.base import WebhookRequest
from agentid.providers.failures import map_failures
from agentid.providers.mail.ses_events import SnsReports
from agentid.providers.mail.ses_events import Trust
from agentid.providers.mail.ses_events import topics
from agentid.providers.registry import ProviderUrl
from agentid.providers.registry import Transports

if TYPE_CHECKING:
    from mypy_boto3_sesv2 import SESV2Client
    from mypy_boto3_sesv2.type_defs import SendEmailRequestTypeDef

MAX_RECIPIENTS = 50  # SendEmail's Destination: to, cc and bcc together
# us-east-1, eu-central-2, us-gov-west-1, cn-northwest-1, eusc-de-east-1...
_REGION = re.compile(r"[a-z]{2,4}(-[a-z]+)+-[0-9]{1,2}")
_TOKEN = re.compile(r"[a-z0-9]{1,63}")  # an Easy DKIM token: a DNS label of its own
# SES: letters, digits, '_' and '-', at most 64.
_CONFIGURATION_SET = re.compile(r"[A-Za-z0-9_-]{1,64}")


class SesRelay:
    """A ``MailRelay`` over Amazon SES v2 (or a local server speaking its API)."""

    max_recipients = MAX_RECIPIENTS
    signs_dkim = True  # SES signs (Easy DKIM for the domain, else amazonses.com)
    spf_include = "amazonses.com"  # the SPF include its sending servers are listed in

    def __init__(
        self,
        *,
        region: str,
        access: AwsAccess | None = None,
        configuration_set: str | None = None,
        reports: SnsReports | None = None,
    ) -> None:
        self.reports = reports
        self.region = region
        self.access = access or AwsAccess()
        self.endpoint = self.access.endpoint  # None: SES's own https endpoint for the region
        self.configuration_set = configuration_set
        self._client: SESV2Client | None = None
        self._client_lock = threading.Lock()

    @property
    def name(self) -> str:
        return f"ses {self.region}" + (f" at {self.endpoint}" if self.endpoint else "")

    def __repr__(self) -> str:  # never the credentials
        return f"SesRelay({self.region!r}, endpoint={self.endpoint!r})"

    def client(self) -> SESV2Client:
        """The botocore client, made on the first call (it may block: call it in a
        thread) and the same one after."""
        with self._client_lock:
            if self._client is None:
                self._client = self._make_client()
            return self._client

    def _make_client(self) -> SESV2Client:
        session = self.access.session(self.region)
        config = self.access.config(attempts=1)  # the outbox retries
        return session.client("sesv2", endpoint_url=self.endpoint, config=config)

    async def send(self, sender: str, recipients: Sequence[str], message: bytes) -> Sent:
        if not recipients:
            raise ProviderRejected(f"{self.name}: a message needs at least one recipient")
        request: SendEmailRequestTypeDef = {
            "FromEmailAddress": sender,
            "Destination": {"ToAddresses": list(recipients)},
            "Content": {"Raw": {"Data": message}},
        }
        if self.configuration_set:
            request["ConfigurationSetName"] = self.configuration_set
        with map_failures(self.name, secrets=self.access.secrets):
            answer = await asyncio.to_thread(self._send, request)
        return Sent(message_id=answer or None)

    async def domain_records(self, domain: str) -> list[DnsRecord]:
        """The domain as an SES identity (made when SES does not know it): its Easy DKIM
        CNAMEs, ``<token>._domainkey.<domain>`` → ``<token>.dkim.amazonses.com``."""
        with map_failures(self.name, secrets=self.access.secrets):
            tokens = await asyncio.to_thread(self._identity_tokens, domain)
        return [
            DnsRecord(f"{token}._domainkey.{domain}", "CNAME", f"{token}.dkim.amazonses.com")
            for token in tokens
            if _TOKEN.fullmatch(token)
        ]

    def _identity_tokens(self, domain: str) -> list[str]:
        """GetEmailIdentity, else CreateEmailIdentity, in a worker thread."""
        client = self.client()
        try:
            answer: Any = client.get_email_identity(EmailIdentity=domain)
        except client.exceptions.NotFoundException:
            answer = client.create_email_identity(EmailIdentity=domain)
        return [str(t) for t in answer.get("DkimAttributes", {}).get("Tokens", [])]

    def _send(self, request: SendEmailRequestTypeDef) -> str:
        """SendEmail, in a worker thread: SES's MessageId."""
        return self.client().send_email(**request).get("MessageId", "")

    async def check_bounce_signature(self, request: WebhookRequest, now: datetime) -> bool:
        """A ``BounceReports``: only with ``sns_topic`` in the URL is an SNS message
        believed, and only a signed one of those topics."""
        return self.reports is not None and await self.reports.signed(request.body, now)

    async def read_bounces(self, request: WebhookRequest) -> Sequence[Bounce]:
        return [] if self.reports is None else await self.reports.bounces(request.body)


def from_url(url: ProviderUrl, transports: Transports) -> SesRelay:
    """The ``ses://`` factory: checks the URL, does no I/O (no credential lookup)."""
    url.only_params(("region", "configuration_set", "timeout", "sns_topic"))
    if url.path not in ("", "/"):
        raise ValidationFailed("ses:// takes no path")
    access = aws_access(url)
    if url.http:
        region = url.query.get("region")
        if region is None:
            raise ValidationFailed("ses+http:// needs the region: ?region=us-east-1")
    else:
        if "region" in url.query:
            raise ValidationFailed("ses:// names its region as the host: ses://eu-west-1")
        if url.port is not None:
            raise ValidationFailed("ses:// takes no port: its host is the region")
        region = url.host
        if not region:
            raise ValidationFailed("ses:// needs a region: ses://eu-west-1")
    if not _REGION.fullmatch(region):
        raise ValidationFailed("ses:// region is not an AWS region name (like eu-west-1)")
    configuration_set = url.query.get("configuration_set")
    if configuration_set is not None and not _CONFIGURATION_SET.fullmatch(configuration_set):
        raise ValidationFailed("ses:// configuration_set is 1 to 64 letters, digits, '_' or '-'")
    return SesRelay(
        region=region,
        access=access,
        configuration_set=configuration_set,
        reports=SnsReports(
            topics=topics(url.query["sns_topic"]),
            trust=Trust(local=url.host if url.http else None),
            http=transports.http,
        )
        if "sns_topic" in url.query
        else None,
    )
