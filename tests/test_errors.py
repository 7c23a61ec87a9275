"""The error tree is the one map from an error to status, code, headers and exit line."""

from __future__ import annotations

from datetime import UTC
from datetime import datetime
from datetime import timedelta

from agentid import errors


def test_every_error_round_trips_through_a_response() -> None:
    for cls in errors._ALL:
        err = cls("something went wrong")
        back = errors.from_response(err.status, err.code, err.message)
        assert type(back) is cls
        assert back.status == err.status and back.exit_line() == "error: something went wrong"


def test_framework_statuses_find_the_general_error() -> None:
    assert errors.for_status(400) is errors.BadRequest
    assert errors.for_status(405) is errors.MethodNotAllowed
    assert errors.for_status(413) is errors.PayloadTooLarge
    assert errors.for_status(422) is errors.ValidationFailed
    assert errors.for_status(503) is errors.StoreUnavailable
    assert errors.for_status(418) is None


def test_retry_after_from_both_rate_limits() -> None:
    assert errors.ProviderRateLimited("slow down", retry_after=2.2).headers() == {
        "Retry-After": "3"
    }
    assert errors.ProviderRateLimited("slow down").headers() == {}
    resets = datetime.now(UTC) + timedelta(seconds=90)
    quota = errors.RateLimited("50 messages a day", resets_at=resets)
    assert 89 <= int(quota.headers()["Retry-After"]) <= 91
    assert quota.as_body()["error"]["resets_at"] == resets.isoformat()
    assert quota.status == 429 and quota.code == "rate_limited"
    past = errors.RateLimited("over", resets_at=resets - timedelta(hours=1))
    assert past.headers() == {"Retry-After": "0"}


def test_unreachable_lives_with_the_others() -> None:
    assert issubclass(errors.Unreachable, errors.AgentIDError)
    assert errors.Unreachable("no server").exit_line() == "error: no server"
