"""The one table from transport and vendor failures to agentid's ``Provider*`` errors.

Adapters never pick an error class themselves: they run their calls inside
``map_failures(...)`` and hand HTTP answers to ``check_response(...)``, and both look the
failure up in ``FAILURES``, first matching row wins (so the most specific comes first), as
httpx maps httpcore's exceptions through one mapping::

    exception / answer                              error                 retry?
    aiosmtplib.SMTPAuthenticationError              ProviderAuth          no: fix credentials
    aiosmtplib connect error, timeout, disconnect   ProviderUnavailable   later
    aiosmtplib.SMTPNotSupported (SMTPUTF8 needed)   ProviderRejected      no: change the request
    SMTP reply 4xx                                  ProviderUnavailable   later (temporary)
    SMTP reply 5xx                                  ProviderRejected      no: change the request
    any other SMTP failure (no STARTTLS offered)    ProviderError         no: fix the settings
    httpx timeout, network, protocol error          ProviderUnavailable   later
    botocore timeout, connection error              ProviderUnavailable   later
    botocore: no credentials found                  ProviderAuth          no: fix credentials
    botocore: parameters it refuses to send         ProviderRejected      no: change the request
    AWS code: signature, unknown key, denied        ProviderAuth          no: fix credentials
    AWS code: throttled, quota exceeded             ProviderRateLimited   later
    AWS code: message refused, sender unverified,   ProviderRejected      no: change the request
      sending paused or suspended, bad request                            or the account
    AWS code not listed: by its HTTP status, as below
    HTTP 401, 403                                   ProviderAuth          no: fix credentials
    HTTP 429                                        ProviderRateLimited   after Retry-After *
    HTTP 413 (the request is too large)             ProviderRejected      no: send less
    HTTP 400, 404, 409, 422 (any other 4xx)         ProviderRejected      no: change the request
    HTTP 5xx                                        ProviderUnavailable   later
    httpx.InvalidURL (its text may quote a secret)  ProviderError         no: fix the URL
    HTTP 3xx (adapters follow no redirect)          ProviderError         no: fix the adapter
    dnspython timeout                               ProviderUnavailable   later
    DNS data (a zone file) that does not parse      ProviderError         no: fix the file
    any other botocore failure                      ProviderError         no: fix the settings
    OSError (a zone file's disk, a refused socket)  ProviderUnavailable   later

* or, without ``Retry-After``, until ``X-RateLimit-Reset`` (a Unix time: SendGrid, GitHub).

A message names the provider and what happened, never a credential: every message is
passed through ``scrub`` (the adapter's secrets and any URL's userinfo are masked).
"""

from __future__ import annotations

import math
import re
import sys
from collections.abc import Container
from collections.abc import Iterable
from collections.abc import Iterator
from collections.abc import Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING
from typing import Any
from urllib.parse import quote

from agentid.errors import ProviderAuth
from agentid.errors import ProviderError
from agentid.errors import ProviderRateLimited
from agentid.errors import ProviderRejected
from agentid.errors import ProviderUnavailable

if TYPE_CHECKING:
    import httpx


@dataclass(frozen=True, slots=True)
class Http:
    """Rows keyed by an HTTP status."""

    statuses: Container[int]


@dataclass(frozen=True, slots=True)
class Smtp:
    """Rows keyed by an SMTP reply code."""

    codes: Container[int]


@dataclass(frozen=True, slots=True)
class Raised:
    """Rows keyed by exception classes of a client library, by package and names: the
    library (botocore and its 3 MB, httpx, aiosmtplib, dnspython) is loaded by the adapter
    that uses it, when one is used, never by this table."""

    package: str
    names: frozenset[str]

    def matches(self, failure: BaseException | None) -> bool:
        return failure is not None and any(
            cls.__name__ in self.names and _within(cls.__module__, self.package)
            for cls in type(failure).__mro__
        )


def _within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def botocore(*names: str) -> Raised:
    return Raised("botocore", frozenset(names))


def httpx_error(*names: str) -> Raised:
    return Raised("httpx", frozenset(names))


def smtp_error(*names: str) -> Raised:
    return Raised("aiosmtplib", frozenset(names))


def dns_error(*names: str) -> Raised:
    return Raised("dns", frozenset(names))


@dataclass(frozen=True, slots=True)
class Aws:
    """Rows keyed by the error code an AWS API answered (a botocore ``ClientError``)."""

    codes: Container[str]


@dataclass(frozen=True, slots=True)
class Row:
    match: type[BaseException] | Http | Smtp | Aws | Raised
    error: type[ProviderError]
    says: str  # what happened, after the provider's name
    detail: bool = True  # False: the lower layer's text is left out (it may quote a secret)


# AWS error codes by what they mean: SES v2 SendEmail's, and those every AWS API shares.
AWS_AUTH_CODES = frozenset(
    {
        "AccessDenied",
        "AccessDeniedException",
        "ExpiredToken",
        "ExpiredTokenException",
        "IncompleteSignature",
        "InvalidClientTokenId",
        "InvalidSignatureException",
        "MissingAuthenticationToken",
        "SignatureDoesNotMatch",
        "UnrecognizedClientException",
    }
)
AWS_THROTTLE_CODES = frozenset(
    {
        "LimitExceededException",  # SES v2: the daily sending quota is used up
        "Throttling",
        "ThrottlingException",
        "TooManyRequestsException",  # SES v2: over the per-second sending rate
    }
)
AWS_REFUSAL_CODES = frozenset(
    {
        "BadRequestException",
        "MailFromDomainNotVerifiedException",
        "MessageRejected",  # content refused, or the sender's identity is not verified
        "NotFoundException",  # the configuration set does not exist
    }
)

FAILURES: tuple[Row, ...] = (
    # SMTP: the specific aiosmtplib exceptions before the reply codes they carry.
    Row(smtp_error("SMTPAuthenticationError"), ProviderAuth, "refused the credentials"),
    Row(smtp_error("SMTPConnectError"), ProviderUnavailable, "could not be reached"),
    Row(smtp_error("SMTPTimeoutError"), ProviderUnavailable, "timed out"),
    Row(smtp_error("SMTPServerDisconnected"), ProviderUnavailable, "closed the connection"),
    Row(smtp_error("SMTPNotSupported"), ProviderRejected, "lacks an extension this message needs"),
    Row(Smtp(range(400, 500)), ProviderUnavailable, "deferred it (temporary)"),
    Row(Smtp(range(500, 600)), ProviderRejected, "refused it"),
    Row(smtp_error("SMTPException"), ProviderError, "failed"),
    # HTTP transport: no answer at all.
    Row(httpx_error("TimeoutException"), ProviderUnavailable, "timed out"),
    Row(httpx_error("NetworkError"), ProviderUnavailable, "could not be reached"),
    Row(httpx_error("TransportError"), ProviderUnavailable, "broke the connection"),
    Row(httpx_error("InvalidURL"), ProviderError, "was called with an invalid URL", detail=False),
    # AWS through botocore (ses://): no answer, no credentials, then the codes AWS
    # answers; a code not listed goes by its HTTP status, below.
    Row(botocore("ConnectTimeoutError", "ReadTimeoutError"), ProviderUnavailable, "timed out"),
    Row(botocore("ConnectionError"), ProviderUnavailable, "could not be reached"),
    Row(botocore("HTTPClientError"), ProviderUnavailable, "broke the connection"),
    Row(
        botocore("NoCredentialsError", "PartialCredentialsError", "CredentialRetrievalError"),
        ProviderAuth,
        "has no credentials to use",
    ),
    Row(botocore("ParamValidationError"), ProviderRejected, "cannot take the request"),
    Row(Aws(AWS_AUTH_CODES), ProviderAuth, "refused the credentials"),
    Row(Aws(AWS_THROTTLE_CODES), ProviderRateLimited, "asks to slow down"),
    Row(Aws({"AccountSuspendedException"}), ProviderRejected, "has suspended the account"),
    Row(Aws({"SendingPausedException"}), ProviderRejected, "has sending paused"),
    Row(Aws(AWS_REFUSAL_CODES), ProviderRejected, "rejected the message"),
    # HTTP answers.
    Row(Http((401, 403)), ProviderAuth, "refused the credentials"),
    Row(Http((429,)), ProviderRateLimited, "asks to slow down"),
    Row(Http((413,)), ProviderRejected, "refused the request as too large"),
    Row(Http((400, 404, 409, 422)), ProviderRejected, "rejected the request"),
    Row(Http(range(400, 500)), ProviderRejected, "rejected the request"),
    Row(Http(range(500, 600)), ProviderUnavailable, "failed"),
    Row(Http(range(300, 400)), ProviderError, "answered with a redirect"),
    # AWS failures no row above took: a profile not found, a code with no status...
    Row(botocore("ClientError", "BotoCoreError"), ProviderError, "failed"),
    # DNS data (zonefile), files and sockets opened by hand.
    Row(dns_error("Timeout"), ProviderUnavailable, "timed out"),
    Row(dns_error("DNSException"), ProviderError, "holds DNS data that does not parse"),
    Row(OSError, ProviderUnavailable, "could not be used"),
)

_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/\s@]*@")
_DETAIL_CHARS = 200


def scrub(text: str, secrets: Iterable[str | None] = ()) -> str:
    """``text`` fit for a message: one line, short, no secret, no URL userinfo."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***").replace(quote(secret, safe=""), "***")
    text = _USERINFO.sub(r"\1***@", text)
    text = " ".join(text.split())
    return text if len(text) <= _DETAIL_CHARS else text[: _DETAIL_CHARS - 1] + "…"


def lookup(failure: BaseException | None = None, *, status: int | None = None) -> Row | None:
    """The first row matching an exception, or an HTTP ``status``; None when none does."""
    reply = _smtp_reply(failure)
    aws = _aws_answer(failure)
    if status is None and (response := _status_error_response(failure)) is not None:
        status = response.status_code
    if status is None and aws is not None:
        status = aws.status
    for row in FAILURES:
        match = row.match
        if isinstance(match, Http):
            hit = status is not None and status in match.statuses
        elif isinstance(match, Smtp):
            hit = reply is not None and reply[0] in match.codes
        elif isinstance(match, Aws):
            hit = aws is not None and aws.code in match.codes
        elif isinstance(match, Raised):
            hit = match.matches(failure)
        else:
            hit = failure is not None and isinstance(failure, match)
        if hit:
            return row
    return None


def _status_error_response(failure: BaseException | None) -> httpx.Response | None:
    """The answer an ``httpx.HTTPStatusError`` (``raise_for_status``) carries, if it is one."""
    if "httpx" not in sys.modules:  # no HTTP adapter ran: nothing here came from httpx
        return None
    import httpx

    return failure.response if isinstance(failure, httpx.HTTPStatusError) else None


def _smtp_reply(failure: BaseException | None) -> tuple[int, str] | None:
    """The SMTP reply (code, text) an aiosmtplib exception carries, if any."""
    if "aiosmtplib" not in sys.modules:  # no SMTP client ran: nothing here came from one
        return None
    import aiosmtplib

    if isinstance(failure, aiosmtplib.SMTPResponseException):
        return failure.code, failure.message
    if isinstance(failure, aiosmtplib.SMTPRecipientsRefused) and failure.recipients:
        first = failure.recipients[0]
        return first.code, first.message
    return None


@dataclass(frozen=True, slots=True)
class _AwsAnswer:
    """What an AWS API answered, as a botocore ``ClientError`` carries it."""

    code: str
    message: str
    status: int | None
    headers: Mapping[str, str]


def _aws_answer(failure: BaseException | None) -> _AwsAnswer | None:
    if not botocore("ClientError").matches(failure):
        return None
    response: Mapping[str, Any] = getattr(failure, "response", None) or {}
    error, metadata = response.get("Error", {}), response.get("ResponseMetadata", {})
    status = metadata.get("HTTPStatusCode")
    return _AwsAnswer(
        code=str(error.get("Code", "")),
        message=str(error.get("Message", "")),
        status=status if isinstance(status, int) else None,
        headers=metadata.get("HTTPHeaders", {}),
    )


def _message(provider: str, says: str, detail: str | None, secrets: Iterable[str | None]) -> str:
    detail = scrub(detail, secrets) if detail else ""
    return f"{provider} {says}" + (f": {detail}" if detail else "")


def response_error(
    response: httpx.Response,
    provider: str,
    *,
    detail: str | None = None,
    secrets: Iterable[str | None] = (),
    now: datetime | None = None,
) -> ProviderError | None:
    """The error an HTTP answer means, or None for a 1xx/2xx one."""
    row = lookup(status=response.status_code)
    if row is None:
        return None
    told = f"HTTP {response.status_code}" + (f", {detail}" if detail else "")
    message = _message(provider, row.says, told, secrets)
    if row.error is ProviderRateLimited:
        wait = retry_after(response.headers.get("retry-after"), now=now)
        if wait is None:
            wait = rate_limit_reset(response.headers.get("x-ratelimit-reset"), now=now)
        return ProviderRateLimited(message, retry_after=wait)
    return row.error(message)


def check_response(
    response: httpx.Response,
    provider: str,
    *,
    detail: str | None = None,
    secrets: Iterable[str | None] = (),
) -> None:
    """Raise the mapped error for an answer that is not a success; ``detail`` is what
    the vendor said about it (its error message), when the adapter read one."""
    if (err := response_error(response, provider, detail=detail, secrets=secrets)) is not None:
        raise err


def exception_error(
    exc: BaseException, provider: str, *, secrets: Iterable[str | None] = ()
) -> ProviderError | None:
    """The error a lower layer's exception means, or None when the table has no row
    (a bug in the adapter, which should surface as one)."""
    if isinstance(exc, ProviderError):
        return exc
    if (response := _status_error_response(exc)) is not None:
        return response_error(response, provider, secrets=secrets)
    row = lookup(exc)
    if row is None:
        return None
    reply, aws = _smtp_reply(exc), _aws_answer(exc)
    if reply:
        detail: str | None = f"{reply[0]} {reply[1]}"
    elif aws:
        detail = _aws_detail(aws)
    else:
        detail = _detail(exc) if row.detail else None
    message = _message(provider, row.says, detail, secrets)
    if row.error is ProviderRateLimited and aws is not None:
        return ProviderRateLimited(message, retry_after=retry_after(aws.headers.get("retry-after")))
    return row.error(message)


def _aws_detail(aws: _AwsAnswer) -> str:
    """``Code: message`` as AWS said them, or ``HTTP 500: message`` when the code is
    only the status again (an answer botocore could not parse)."""
    code = aws.code
    if not code or code == str(aws.status):
        code = f"HTTP {aws.status}" if aws.status else "an error"
    return f"{code}: {aws.message}" if aws.message else code


def _detail(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


@contextmanager
def map_failures(provider: str, *, secrets: Iterable[str | None] = ()) -> Iterator[None]:
    """Run a provider call; what fails in it leaves as the mapped ``Provider*`` error.

    ``provider`` names it in messages ("smtp relay 127.0.0.1:2525"); ``secrets`` are
    masked in them. The lower layer's exception is not chained: its text may hold a
    URL or a credential, and the message already says what happened.
    """
    secrets = tuple(secrets)
    try:
        yield
    except ProviderError:
        raise
    except Exception as exc:
        mapped = exception_error(exc, provider, secrets=secrets)
        if mapped is None:
            raise
        raise mapped from None


def retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` value: delta-seconds or an HTTP-date
    (RFC 9110 §10.2.3); None when absent or unreadable, 0 for a date gone by."""
    if value is None or not (value := value.strip()):
        return None
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # "-0000": UTC by RFC 5322
        when = when.replace(tzinfo=UTC)
    seconds = (when - (now or datetime.now(UTC))).total_seconds()
    return float(max(0, math.ceil(seconds)))


def rate_limit_reset(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from an ``X-RateLimit-Reset`` value, the Unix time at which the
    limit resets; None when absent or unreadable, 0 for a time gone by."""
    if value is None or not (value := value.strip()).isdigit():
        return None
    seconds = int(value) - (now or datetime.now(UTC)).timestamp()
    return float(max(0, math.ceil(seconds)))
