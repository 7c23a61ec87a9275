"""SES's bounce reports, posted by an Amazon SNS topic to the mail webhook.

SES publishes bounce notifications to an SNS topic (the identity's notification topic, or
a configuration set's event destination); an HTTPS subscription of that topic POSTs each
message to ``POST /webhooks/mail/{project}``, a JSON body whatever its Content-Type. A
message is believed only when, as Amazon's "Verifying the signatures of Amazon SNS
messages" has it:

- its ``Type`` is ``Notification``, ``SubscriptionConfirmation`` or
  ``UnsubscribeConfirmation``, and its ``TopicArn`` is one the relay URL names
  (``sns_topic=``): SNS signs whatever any AWS account publishes to any topic that
  subscribed us, so the signature alone says nothing of whose SES is speaking;
- its ``Timestamp`` is at most ``TOLERANCE_SECONDS`` old (SNS's delivery retries last an
  hour at most) and not ahead of now by more than ``SKEW_SECONDS``;
- its ``SigningCertURL`` is ``https://sns.<region>.amazonaws.com/….pem`` (``.com.cn`` in
  China); the certificate found there (fetched once per URL and kept while it is valid)
  holds an RSA key and is within its validity;
- its ``Signature`` (base64) is that key's PKCS#1 v1.5 signature, SHA-1 for
  ``SignatureVersion`` 1, SHA-256 for 2, over the canonical string: ``name\\nvalue\\n``
  for each of Message, MessageId, Subject (only when present), Timestamp, TopicArn, Type
  (a notification), or Message, MessageId, SubscribeURL, Timestamp, Token, TopicArn,
  Type (a confirmation), in that order.

A believed ``SubscriptionConfirmation`` is confirmed by a GET of its ``SubscribeURL``
(the same host rule as the certificate's). A ``Notification`` carries SES's JSON: with
``notificationType`` (``eventType`` for event publishing) ``Bounce`` and
``bounce.bounceType`` ``Permanent``, each of ``bounce.bouncedRecipients`` is a ``Bounce``
of the message SES called ``mail.messageId`` (what SendEmail answered: the recipient's
``provider_message_id``). ``Complaint`` (the reader marked the message as spam) makes
each of ``complaint.complainedRecipients`` a complaint, unless its
``complaintFeedbackType`` is ``not-spam``; one whose ``complaintSubType`` is
``OnAccountSuppressionList`` was not sent at all (the address was on the account's
suppression list), so it fails its recipient like a bounce. Transient and undetermined bounces and
deliveries are neither. A ``ses+http://`` relay (a local server playing SES) takes certificates
and confirmations from its own host, over http or https: tests sign with a key of theirs.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import re
import time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from email.utils import parseaddr
from typing import Any
from urllib.parse import urlsplit

import httpx
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric import rsa

from agentid.errors import ValidationFailed
from agentid.json_input import json_object
from agentid.providers.base import Bounce
from agentid.providers.failures import check_response
from agentid.providers.failures import map_failures

log = logging.getLogger("agentid.providers")

TOLERANCE_SECONDS = 3600
SKEW_SECONDS = 300
MAX_CERT_BYTES = 16 * 1024
CERTS_KEPT = 32
NOTIFICATION_FIELDS = ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type")
CONFIRMATION_FIELDS = (
    *("Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"),
)
TYPES = ("Notification", "SubscriptionConfirmation", "UnsubscribeConfirmation")
_HASHES: dict[str, type[hashes.HashAlgorithm]] = {"1": hashes.SHA1, "2": hashes.SHA256}
_AWS_HOST = re.compile(r"sns\.[a-z]{2,4}(-[a-z]+)+-[0-9]{1,2}\.amazonaws\.com(\.cn)?")
_TOPIC = re.compile(r"arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?")


def topics(value: str) -> frozenset[str]:
    """The ``sns_topic`` parameter: one topic ARN or several, comma-separated."""
    found = frozenset(t.strip() for t in value.split(",") if t.strip())
    if not found or not all(_TOPIC.fullmatch(t) for t in found):
        raise ValidationFailed("sns_topic is an SNS topic ARN (arn:aws:sns:REGION:ACCOUNT:NAME)")
    return found


@dataclass(frozen=True, slots=True)
class Trust:
    """Where SNS certificates and subscription URLs may be fetched from: Amazon's
    ``sns.<region>.amazonaws.com`` over https, or (``local``) one test host."""

    local: str | None = None  # the ses+http:// host: http or https there, any port

    def allows(self, url: object) -> bool:
        # SNS's addresses are ASCII; anything else (a lone surrogate, which no HTTP client
        # can put in a request) is none of them
        if not isinstance(url, str) or len(url) > 2048 or not url.isascii():
            return False
        try:
            parts = urlsplit(url)
            host, _ = parts.hostname, parts.port  # a bad port raises here
        except ValueError:
            return False
        if parts.username is not None or parts.password is not None or not host:
            return False
        if self.local is not None:
            return parts.scheme in ("http", "https") and host == self.local
        return (
            parts.scheme == "https"
            and parts.port in (None, 443)
            and bool(_AWS_HOST.fullmatch(host))
        )


def canonical(message: dict[str, Any]) -> bytes | None:
    """The string SNS signed for ``message``; None when a field it covers is missing, or
    holds a lone surrogate (JSON can say ``\\ud800``; UTF-8, so SNS's signature, cannot)."""
    fields = NOTIFICATION_FIELDS if message.get("Type") == "Notification" else CONFIRMATION_FIELDS
    out = []
    for name in fields:
        value = message.get(name)
        if value is None and name == "Subject":
            continue
        if not isinstance(value, str):
            return None
        out.append(f"{name}\n{value}\n")
    try:
        return "".join(out).encode("utf-8")
    except UnicodeEncodeError:
        return None


def _fresh(stamp: object, now: datetime) -> bool:
    if not isinstance(stamp, str) or len(stamp) > 40:
        return False
    try:
        when = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return False
    if when.tzinfo is None:
        return False
    age = (now - when).total_seconds()
    return -SKEW_SECONDS <= age <= TOLERANCE_SECONDS


class SnsReports:
    """Checks and reads the SNS messages of the topics it was given, fetching signing
    certificates through the HTTP client it was given."""

    def __init__(self, *, topics: frozenset[str], trust: Trust, http: httpx.AsyncClient):
        self.topics = topics
        self._trust = trust
        self._http = http
        self._keys: OrderedDict[str, tuple[rsa.RSAPublicKey, float]] = OrderedDict()

    async def signed(self, body: bytes, now: datetime) -> bool:
        """Is ``body`` an SNS message of our topics, fresh, and signed by SNS?"""
        message = json_object(body)
        if message is None or message.get("Type") not in TYPES:
            return False
        if message.get("TopicArn") not in self.topics or not _fresh(message.get("Timestamp"), now):
            return False
        algorithm = _HASHES.get(str(message.get("SignatureVersion")))
        text, cert_url = canonical(message), message.get("SigningCertURL")
        if algorithm is None or text is None or not isinstance(cert_url, str):
            return False
        if not self._trust.allows(cert_url) or not urlsplit(cert_url).path.endswith(".pem"):
            log.warning("sns: signing certificate not at an SNS address: refused")
            return False
        try:
            signature = base64.b64decode(str(message.get("Signature")), validate=True)
        except (binascii.Error, ValueError):
            return False
        key = await self._key(cert_url, now)
        if key is None:
            return False
        try:
            key.verify(signature, text, padding.PKCS1v15(), algorithm())
        except InvalidSignature:
            return False
        return True

    async def _key(self, url: str, now: datetime) -> rsa.RSAPublicKey | None:
        """The RSA key of the certificate at ``url`` (fetched once, kept while valid)."""
        kept = self._keys.get(url)
        if kept is not None and kept[1] > time.time():
            return kept[0]
        with map_failures("sns signing certificate"):
            response = await self._http.get(url, timeout=10.0)
        check_response(response, "sns signing certificate")
        if len(response.content) > MAX_CERT_BYTES:
            return None
        try:
            cert = x509.load_pem_x509_certificate(response.content)
        except ValueError:
            return None
        key = cert.public_key()
        if not isinstance(key, rsa.RSAPublicKey):
            return None
        if not cert.not_valid_before_utc <= now <= cert.not_valid_after_utc:
            return None
        self._keys[url] = (key, cert.not_valid_after_utc.timestamp())
        if len(self._keys) > CERTS_KEPT:
            self._keys.popitem(last=False)
        return key

    async def bounces(self, body: bytes) -> Sequence[Bounce]:
        """The permanent bounces in a checked message; a subscription confirmation is
        confirmed first (and has none)."""
        message = json_object(body) or {}
        kind = message.get("Type")
        if kind == "SubscriptionConfirmation":
            await self._confirm(message.get("SubscribeURL"), message.get("TopicArn"))
            return []
        if kind != "Notification":
            return []
        return ses_bounces(message.get("Message"))

    async def _confirm(self, url: object, topic: object) -> None:
        if not isinstance(url, str) or not self._trust.allows(url):
            log.warning("sns: subscription URL not at an SNS address: not confirmed")
            return
        with map_failures("sns subscription"):
            response = await self._http.get(url, timeout=10.0)
        check_response(response, "sns subscription")
        log.info("sns: subscription confirmed", extra={"topic": str(topic)[:300]})


def ses_bounces(notification: object) -> list[Bounce]:
    """The permanent bounces and the complaints in SES's notification (the SNS
    ``Message``, a JSON string)."""
    if not isinstance(notification, str):
        return []
    try:
        ses: Any = json.loads(notification)
    except (ValueError, RecursionError):
        raise ValidationFailed("the SNS Message is not SES's JSON notification") from None
    if not isinstance(ses, dict) or not isinstance(mail := ses.get("mail"), dict):
        return []
    message_id = mail.get("messageId")
    message_id = message_id[:200] if isinstance(message_id, str) and message_id else None
    kind = ses.get("notificationType", ses.get("eventType"))
    if kind == "Bounce" and isinstance(bounce := ses.get("bounce"), dict):
        if bounce.get("bounceType") != "Permanent":
            return []
        subtype = bounce.get("bounceSubType")
        return [
            Bounce(address, message_id, f"ses bounce: {said or 'Permanent'}")
            for address, said in _recipients(
                bounce.get("bouncedRecipients"), subtype, ("status", "diagnosticCode")
            )
        ]
    if kind == "Complaint" and isinstance(complaint := ses.get("complaint"), dict):
        feedback = complaint.get("complaintFeedbackType")
        if feedback == "not-spam":
            return []
        # Not sent: the address is on the account's suppression list for an earlier
        # complaint, so this message failed like a bounce.
        unsent = complaint.get("complaintSubType") == "OnAccountSuppressionList"
        return [
            Bounce(address, message_id, f"ses complaint: {said or 'spam'}", complaint=not unsent)
            for address, said in _recipients(
                complaint.get("complainedRecipients"), complaint.get("complaintSubType") or feedback
            )
        ]
    return []


def _recipients(
    listed: object, what: object, fields: tuple[str, ...] = ()
) -> list[tuple[str, str]]:
    """Each recipient SES lists (``{"emailAddress", ...}``): its address, and what SES
    said of it: ``what`` (the bounce's subtype, the complaint's feedback type), then the
    recipient's own ``fields``."""
    found = []
    for recipient in listed if isinstance(listed, list) else []:
        if not isinstance(recipient, dict) or not isinstance(recipient.get("emailAddress"), str):
            continue
        address = parseaddr(recipient["emailAddress"])[1] or recipient["emailAddress"]
        parts = [what, *(recipient.get(name) for name in fields)]
        found.append((address[:320], " ".join(str(p) for p in parts if p)[:500]))
    return found
