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
└── ProviderError            502 provider_error
    ├── ProviderAuth         502 provider_auth
    ├── ProviderRateLimited  503 provider_rate_limited
    └── ProviderUnavailable  503 provider_unavailable
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


class ProviderRateLimited(ProviderError):
    status, code = 503, "provider_rate_limited"


class ProviderUnavailable(ProviderError):
    status, code = 503, "provider_unavailable"


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
    ProviderRateLimited,
    ProviderUnavailable,
    ProviderError,
)
