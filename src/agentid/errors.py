"""agentid's error tree. Each error maps to one HTTP status, error code, response headers
and CLI exit line, here only (the API's handlers, the client and the CLI all read it).

AgentIDError                 500 internal
├── BadRequest               400 bad_request
│   └── ValidationFailed     422 validation_failed
├── Unauthorized             401 unauthorized
├── Forbidden                403 forbidden
├── NotFound                 404 not_found
├── MethodNotAllowed         405 method_not_allowed
├── Conflict                 409 conflict               records: a DNS apply's per-record status
├── PayloadTooLarge          413 too_large
├── RateLimited              429 rate_limited           our own quota; resets_at, Retry-After
├── Timeout                  504 timeout                (client side) a wait found nothing; skipped
│   └── SmsFiltered          504 sms_filtered           (client side) the carrier filtered the SMS
├── StoreUnavailable         503 store_unavailable
├── Unreachable              503 unreachable            (client side) nothing answered
└── ProviderError            502 provider_error         (agentid.providers.failures maps to these)
    ├── ProviderAuth         502 provider_auth          the provider refused our credentials
    ├── ProviderRejected     422 provider_rejected      the caller can change something and retry
    ├── ProviderRateLimited  429 provider_rate_limited  with Retry-After when the provider said
    └── ProviderUnavailable  502 provider_unavailable   down, unreachable or temporary: retry later

A class names its own code; it answers its parent's status unless it names another. Every
one answers the same body, ``ErrorBody``: ``{"error": {"code", "message"}}`` and what its
``fields`` give (``resets_at`` for rate_limited, ``records`` for a conflict that stops a
DNS apply); the OpenAPI schema declares it for each error status a route can answer
(agentid.api.responses).
"""

from __future__ import annotations

import math
import time
from datetime import datetime
from typing import Any

from pydantic import BaseModel
from pydantic import ConfigDict


class ErrorDetail(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str  # the error's code: not_found, conflict, validation_failed...
    message: str
    resets_at: datetime | None = None  # rate_limited: when the quota is available again
    # conflict on a DNS apply: each planned record and its status (``conflict`` with what
    # stands in its way under ``found``; ``unchanged``; ``planned``: not sent)
    records: list[dict[str, Any]] | None = None


class ErrorBody(BaseModel):
    """The body of every error the API answers."""

    model_config = ConfigDict(extra="forbid")

    error: ErrorDetail


class AgentIDError(Exception):
    """Base of every error agentid raises on purpose."""

    status: int = 500
    code: str = "internal"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def as_body(self) -> dict[str, dict[str, Any]]:
        given = {name: value for name, value in self.fields().items() if value is not None}
        return {"error": {"code": self.code, "message": self.message, **given}}

    def fields(self) -> dict[str, Any]:
        """What the body carries beside the code and message, JSON-ready (None: left out)."""
        return {}

    def headers(self) -> dict[str, str]:
        """Response headers the error carries (``Retry-After``...)."""
        return {}

    def exit_line(self) -> str:
        """What the CLI prints on stderr before exiting with status 1."""
        return f"error: {self.message or self.code}"


class BadRequest(AgentIDError):
    """The request cannot be taken as sent: a body that does not parse, parts of it that
    disagree (the project in the path and in a header); in the CLI, options or settings
    it cannot use."""

    status, code = 400, "bad_request"


class ValidationFailed(BadRequest):
    """A value is not one agentid takes: in a request (an address, a cursor that is not
    an id, a provider URL it cannot read), or in a setting the operator gave."""

    status, code = 422, "validation_failed"


class ContainsReceivedCode(ValidationFailed):
    """An outgoing message holds a code or link this project received (the send guard)."""

    code = "contains_received_code"


class Unauthorized(AgentIDError):
    """No token, or one agentid does not know (mistyped, revoked, a session signed out)."""

    status, code = 401, "unauthorized"


class Forbidden(AgentIDError):
    """Not allowed: the token lacks the scope, the route is the operator's, the project's
    policy refuses it (sending from another domain), or a webhook's signature is missing
    or wrong."""

    status, code = 403, "forbidden"


class NotFound(AgentIDError):
    """Nothing of that id that this token may see: a project's token asking about another
    project's resource is answered this, as if it did not exist."""

    status, code = 404, "not_found"


class MethodNotAllowed(AgentIDError):
    """The path exists, not with this method (the web framework answers it; this class
    gives the code)."""

    status, code = 405, "method_not_allowed"


class Conflict(AgentIDError):
    """The request runs into what is there. ``records``, when given (a DNS apply stopped by
    records agentid did not create), is each planned record with its status, JSON-ready."""

    status, code = 409, "conflict"

    def __init__(self, message: str, records: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.records = records

    def fields(self) -> dict[str, Any]:
        return {"records": self.records}


class PayloadTooLarge(AgentIDError):
    """A body past its limit: a request, a message to send with its attachments."""

    status, code = 413, "too_large"


class RateLimited(AgentIDError):
    """One of agentid's own quotas is used up until ``resets_at``."""

    status, code = 429, "rate_limited"

    def __init__(self, message: str, resets_at: datetime | None = None) -> None:
        super().__init__(message)
        self.resets_at = resets_at

    def fields(self) -> dict[str, Any]:
        return {"resets_at": None if self.resets_at is None else self.resets_at.isoformat()}

    def headers(self) -> dict[str, str]:
        if self.resets_at is None:
            return {}
        return {"Retry-After": _seconds(self.resets_at.timestamp() - time.time())}


class Timeout(AgentIDError):
    """A wait ended with nothing that matched (the client's ``wait_for_code``), or the
    server did not answer in time. ``skipped`` holds what arrived in the window and why it
    was left out, when the server said."""

    status, code = 504, "timeout"

    def __init__(self, message: str, skipped: list[Any] | None = None) -> None:
        super().__init__(message)
        self.skipped = skipped or []


class SmsFiltered(Timeout):
    """A wait for an SMS code ended with no code because the provider reported it filtered
    an SMS to the project's number (Twilio 30038/30039): waiting again will not bring it.
    ``notices`` holds the provider's reports (``sms.filtered``, error code, when)."""

    code = "sms_filtered"

    def __init__(
        self, message: str, notices: list[Any] | None = None, skipped: list[Any] | None = None
    ) -> None:
        super().__init__(message, skipped)
        self.notices = notices or []


class StoreUnavailable(AgentIDError):
    """The database cannot answer now (locked, disk full, connection lost); retry shortly."""

    status, code = 503, "store_unavailable"


class Unreachable(AgentIDError):
    """Nothing answered at the server's URL (connection refused, DNS failure, connect timeout)."""

    status, code = 503, "unreachable"


class ProviderError(AgentIDError):
    """A relay, phone or DNS provider failed in a way no subclass names
    (``agentid.providers.failures`` maps transport and vendor failures to the tree)."""

    status, code = 502, "provider_error"


class ProviderAuth(ProviderError):
    """The provider refused agentid's credentials, or none were found to send: the
    account (its URL, or the AWS credentials SES finds) needs fixing, not a retry."""

    code = "provider_auth"


class ProviderRejected(ProviderError):
    """The provider refused this request as given (bad number, refused recipient...)."""

    status, code = 422, "provider_rejected"


class ProviderRateLimited(ProviderError):
    """The provider asks us to slow down; ``retry_after`` seconds when it said how long
    (sent on as the response's ``Retry-After``)."""

    status, code = 429, "provider_rate_limited"

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after

    def headers(self) -> dict[str, str]:
        return {} if self.retry_after is None else {"Retry-After": _seconds(self.retry_after)}


class ProviderUnavailable(ProviderError):
    """The provider is down, did not answer in time or deferred the request: retry later."""

    code = "provider_unavailable"


def _seconds(delay: float) -> str:
    return str(math.ceil(max(0.0, delay)))


def for_status(status: int) -> type[AgentIDError] | None:
    """The most general error answered with ``status`` (for errors the web framework
    raises itself: an unknown route, a wrong method, an unparseable body)."""
    return next((cls for cls in _ALL if cls.status == status), None)


def from_response(status: int, code: str, message: str) -> AgentIDError:
    """Rebuild the error an API response describes (used by the client and CLI)."""
    for cls in _ALL:
        if cls.code == code:
            return cls(message)
    err = AgentIDError(message)
    err.status, err.code = status, code
    return err


_ALL: tuple[type[AgentIDError], ...] = (  # the general before the specific
    BadRequest,
    ValidationFailed,
    ContainsReceivedCode,
    Unauthorized,
    Forbidden,
    NotFound,
    MethodNotAllowed,
    Conflict,
    PayloadTooLarge,
    RateLimited,
    Timeout,
    SmsFiltered,
    StoreUnavailable,
    Unreachable,
    ProviderAuth,
    ProviderRejected,
    ProviderRateLimited,
    ProviderUnavailable,
    ProviderError,
)
