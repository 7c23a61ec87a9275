"""agentid's error tree. Each error maps to one HTTP status and one CLI exit line, here only.

AgentIDError                 500 internal
├── BadRequest               400 bad_request
│   └── ValidationFailed     422 validation_failed
├── Unauthorized             401 unauthorized
├── Forbidden                403 forbidden
├── NotFound                 404 not_found
├── Conflict                 409 conflict
├── PayloadTooLarge          413 too_large
├── StoreUnavailable         503 store_unavailable
└── ProviderError            502 provider_error         (agentid.providers.failures maps to these)
    ├── ProviderAuth         502 provider_auth          the provider refused our credentials
    ├── ProviderRejected     422 provider_rejected      the caller can change something and retry
    ├── ProviderRateLimited  429 provider_rate_limited  with Retry-After when the provider said
    └── ProviderUnavailable  502 provider_unavailable   down, unreachable or temporary: retry later
"""

from __future__ import annotations


class AgentIDError(Exception):
    """Base of every error agentid raises on purpose."""

    status: int = 500
    code: str = "internal"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def as_body(self) -> dict[str, dict[str, str]]:
        return {"error": {"code": self.code, "message": self.message}}


class BadRequest(AgentIDError):
    status, code = 400, "bad_request"


class ValidationFailed(BadRequest):
    status, code = 422, "validation_failed"


class Unauthorized(AgentIDError):
    status, code = 401, "unauthorized"


class Forbidden(AgentIDError):
    status, code = 403, "forbidden"


class NotFound(AgentIDError):
    status, code = 404, "not_found"


class Conflict(AgentIDError):
    status, code = 409, "conflict"


class PayloadTooLarge(AgentIDError):
    status, code = 413, "too_large"


class StoreUnavailable(AgentIDError):
    """The database cannot answer now (locked, disk full, connection lost); retry shortly."""

    status, code = 503, "store_unavailable"


class ProviderError(AgentIDError):
    status, code = 502, "provider_error"


class ProviderAuth(ProviderError):
    status, code = 502, "provider_auth"


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


class ProviderUnavailable(ProviderError):
    status, code = 502, "provider_unavailable"


def from_response(status: int, code: str, message: str) -> AgentIDError:
    """Rebuild the error an API response describes (used by the client and CLI)."""
    for cls in _ALL:
        if cls.code == code:
            return cls(message)
    err = AgentIDError(message)
    err.status, err.code = status, code
    return err


_ALL: tuple[type[AgentIDError], ...] = (
    BadRequest,
    ValidationFailed,
    Unauthorized,
    Forbidden,
    NotFound,
    Conflict,
    PayloadTooLarge,
    StoreUnavailable,
    ProviderAuth,
    ProviderRejected,
    ProviderRateLimited,
    ProviderUnavailable,
    ProviderError,
)
