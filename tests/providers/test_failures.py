"""The failure table, row by row, with real httpx answers (httpx's own MockTransport
serves them; the SMTP rows run against a real server in mail/test_smtp.py) and botocore
errors built as botocore builds them (mail/test_ses.py has them come over the wire)."""

from __future__ import annotations

from datetime import UTC
from datetime import datetime
from datetime import timedelta
from email.utils import format_datetime

import botocore.exceptions
import dns.exception
import httpx
import pytest
from botocore.exceptions import ClientError

from agentid.errors import ProviderAuth
from agentid.errors import ProviderError
from agentid.errors import ProviderRateLimited
from agentid.errors import ProviderRejected
from agentid.errors import ProviderUnavailable
from agentid.providers.failures import AWS_AUTH_CODES
from agentid.providers.failures import AWS_REFUSAL_CODES
from agentid.providers.failures import AWS_THROTTLE_CODES
from agentid.providers.failures import FAILURES
from agentid.providers.failures import Aws
from agentid.providers.failures import Http
from agentid.providers.failures import check_response
from agentid.providers.failures import map_failures
from agentid.providers.failures import rate_limit_reset
from agentid.providers.failures import retry_after
from agentid.providers.failures import scrub
from tests.providers.sink import free_port

SECRET = "tok-3f9a/b+c"


def answering(status: int, headers: dict[str, str] | None = None) -> httpx.AsyncClient:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, headers=headers, json={"message": "as the vendor says"})

    return httpx.AsyncClient(transport=httpx.MockTransport(handler))


async def answer(status: int, headers: dict[str, str] | None = None) -> None:
    async with answering(status, headers) as client:
        with map_failures("vendor", secrets=[SECRET]):
            response = await client.get("https://vendor.test/x", headers={"x-key": SECRET})
            check_response(response, "vendor", secrets=[SECRET])


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (401, ProviderAuth),
        (403, ProviderAuth),
        (400, ProviderRejected),
        (404, ProviderRejected),
        (409, ProviderRejected),
        (422, ProviderRejected),
        (410, ProviderRejected),  # any other 4xx
        (413, ProviderRejected),
        (429, ProviderRateLimited),
        (500, ProviderUnavailable),
        (502, ProviderUnavailable),
        (503, ProviderUnavailable),
        (504, ProviderUnavailable),
        (302, ProviderError),
    ],
)
async def test_http_status(status: int, error: type[ProviderError]) -> None:
    with pytest.raises(ProviderError) as err:
        await answer(status)
    assert type(err.value) is error
    assert err.value.message.startswith("vendor ") and f"HTTP {status}" in err.value.message
    assert SECRET not in err.value.message


@pytest.mark.parametrize("status", [200, 201, 204])
async def test_success_passes(status: int) -> None:
    await answer(status)


def test_every_status_row_is_tested() -> None:
    tested = {401, 403, 400, 404, 409, 422, 410, 413, 429, 500, 502, 503, 504, 302}
    for row in FAILURES:
        if isinstance(row.match, Http):
            assert any(status in row.match.statuses for status in tested), row


async def test_429_with_seconds() -> None:
    with pytest.raises(ProviderRateLimited) as err:
        await answer(429, {"Retry-After": "17"})
    assert err.value.retry_after == 17.0 and err.value.status == 429


async def test_429_with_http_date() -> None:
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=120), usegmt=True)
    with pytest.raises(ProviderRateLimited) as err:
        await answer(429, {"Retry-After": when})
    assert err.value.retry_after is not None and 100 <= err.value.retry_after <= 121


async def test_429_with_rate_limit_reset() -> None:
    reset = int(datetime.now(UTC).timestamp()) + 60
    with pytest.raises(ProviderRateLimited) as err:
        await answer(429, {"X-RateLimit-Reset": str(reset)})
    assert err.value.retry_after is not None and 50 <= err.value.retry_after <= 61


async def test_retry_after_wins_over_rate_limit_reset() -> None:
    reset = int(datetime.now(UTC).timestamp()) + 600
    with pytest.raises(ProviderRateLimited) as err:
        await answer(429, {"Retry-After": "5", "X-RateLimit-Reset": str(reset)})
    assert err.value.retry_after == 5.0


async def test_413_says_too_large() -> None:
    with pytest.raises(ProviderRejected, match="refused the request as too large: HTTP 413"):
        await answer(413)


async def test_429_without_retry_after() -> None:
    with pytest.raises(ProviderRateLimited) as err:
        await answer(429)
    assert err.value.retry_after is None


def test_retry_after_values() -> None:
    now = datetime(2025, 1, 1, 12, 0, 0, tzinfo=UTC)
    assert retry_after("0") == 0.0
    assert retry_after(" 120 ") == 120.0
    assert retry_after("Wed, 01 Jan 2025 12:01:30 GMT", now=now) == 90.0
    assert retry_after("Wed, 01 Jan 2025 11:00:00 GMT", now=now) == 0.0  # gone by
    assert retry_after("soon") is None
    assert retry_after("-5") is None
    assert retry_after("") is None
    assert retry_after(None) is None


def test_rate_limit_reset_values() -> None:
    now = datetime(2025, 1, 1, 12, 0, 0, tzinfo=UTC)
    at = int(now.timestamp())
    assert rate_limit_reset(str(at + 90), now=now) == 90.0
    assert rate_limit_reset(f" {at + 1} ", now=now) == 1.0
    assert rate_limit_reset(str(at - 30), now=now) == 0.0  # gone by
    assert rate_limit_reset("soon", now=now) is None
    assert rate_limit_reset("-5", now=now) is None
    assert rate_limit_reset("", now=now) is None
    assert rate_limit_reset(None, now=now) is None


async def test_status_error_from_raise_for_status() -> None:
    async with answering(401) as client:
        with pytest.raises(ProviderAuth), map_failures("vendor"):
            (await client.get("https://vendor.test/x")).raise_for_status()


@pytest.mark.parametrize(
    ("raised", "says"),
    [
        (httpx.ConnectError("[Errno 111] Connection refused"), "could not be reached"),
        (httpx.ConnectTimeout("timed out"), "timed out"),
        (httpx.ReadTimeout("timed out"), "timed out"),
        (httpx.ReadError("reset by peer"), "could not be reached"),
        (httpx.RemoteProtocolError("illegal status line"), "broke the connection"),
    ],
)
async def test_http_transport_errors(raised: httpx.TransportError, says: str) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise raised

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
        with pytest.raises(ProviderUnavailable) as err, map_failures("vendor"):
            await client.get("https://vendor.test/x")
    assert says in err.value.message
    assert err.value.__cause__ is None


async def test_real_connection_refused() -> None:
    async with httpx.AsyncClient() as client:
        with pytest.raises(ProviderUnavailable, match="could not be reached"), map_failures("v"):
            await client.get(f"http://127.0.0.1:{free_port()}/")


def test_oserror_is_unavailable() -> None:
    with pytest.raises(ProviderUnavailable, match="No space left"), map_failures("zone file"):
        raise OSError(28, "No space left on device")


def test_dns_timeout_is_unavailable() -> None:
    with pytest.raises(ProviderUnavailable, match="timed out"), map_failures("dns"):
        raise dns.exception.Timeout()


def test_dns_data_that_does_not_parse() -> None:
    with pytest.raises(ProviderError, match="does not parse") as err, map_failures("dns"):
        raise dns.exception.SyntaxError("bad")
    assert type(err.value) is ProviderError


def test_unmapped_exception_is_left_alone() -> None:
    with pytest.raises(KeyError), map_failures("vendor"):
        raise KeyError("a bug in the adapter")


def test_provider_errors_pass_through() -> None:
    original = ProviderRejected("vendor rejected it")
    with pytest.raises(ProviderRejected) as err, map_failures("vendor"):
        raise original
    assert err.value is original


def test_scrub_masks_secrets_and_userinfo() -> None:
    text = f"failed for https://sid:{SECRET}@api.test/x with key {SECRET} and tok-3f9a%2Fb%2Bc"
    clean = scrub(text, [SECRET])
    assert SECRET not in clean and "tok-3f9a%2Fb%2Bc" not in clean and "sid:" not in clean
    assert "https://***@api.test/x" in clean
    assert scrub("a\r\nb\tc") == "a b c"
    assert len(scrub("x" * 1000)) == 200


async def test_detail_from_the_vendor_is_scrubbed() -> None:
    async with answering(400) as client:
        response = await client.get("https://vendor.test/x")
    with pytest.raises(ProviderRejected) as err:
        check_response(response, "vendor", detail=f"number bad for key {SECRET}", secrets=[SECRET])
    assert err.value.message == "vendor rejected the request: HTTP 400, number bad for key ***"


async def test_invalid_url_never_quotes_it() -> None:
    async with httpx.AsyncClient(transport=httpx.MockTransport(httpx.Response)) as client:
        with pytest.raises(ProviderError) as err, map_failures("vendor", secrets=[SECRET]):
            await client.get(f"https://sid:{SECRET}@vendor.test/x")  # "/" unencoded
    assert type(err.value) is ProviderError
    assert err.value.message == "vendor was called with an invalid URL"


def aws_answer(code: str, message: str, status: int | None, **headers: str) -> ClientError:
    """A ClientError as botocore raises it for an AWS error answer."""
    metadata: dict[str, object] = {"RequestId": "r-1", "HTTPHeaders": headers, "RetryAttempts": 0}
    if status is not None:
        metadata["HTTPStatusCode"] = status
    return ClientError(
        {"Error": {"Code": code, "Message": message}, "ResponseMetadata": metadata},
        "SendEmail",
    )


AWS_CODES: list[tuple[str, int, type[ProviderError]]] = [
    *((code, 403, ProviderAuth) for code in sorted(AWS_AUTH_CODES)),
    *((code, 400, ProviderRateLimited) for code in sorted(AWS_THROTTLE_CODES)),
    ("AccountSuspendedException", 400, ProviderRejected),
    ("SendingPausedException", 400, ProviderRejected),
    *((code, 400, ProviderRejected) for code in sorted(AWS_REFUSAL_CODES)),
]


@pytest.mark.parametrize(("code", "status", "error"), AWS_CODES)
def test_aws_codes(code: str, status: int, error: type[ProviderError]) -> None:
    with pytest.raises(ProviderError) as err, map_failures("ses eu-west-1", secrets=[SECRET]):
        raise aws_answer(code, f"as SES says it, with {SECRET}", status)
    assert type(err.value) is error
    assert err.value.message.startswith("ses eu-west-1 ")
    assert err.value.message.endswith(f"{code}: as SES says it, with ***")
    assert err.value.__cause__ is None


def test_every_aws_code_row_is_tested() -> None:
    tested = {code for code, _, _ in AWS_CODES}
    for row in FAILURES:
        if isinstance(row.match, Aws):
            assert set(row.match.codes) <= tested, row


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (403, ProviderAuth),
        (429, ProviderRateLimited),
        (400, ProviderRejected),
        (500, ProviderUnavailable),
        (503, ProviderUnavailable),
        (None, ProviderError),
    ],
)
def test_other_aws_codes_go_by_status(status: int | None, error: type[ProviderError]) -> None:
    with pytest.raises(ProviderError) as err, map_failures("ses"):
        raise aws_answer("SomethingNewException", "new to us", status)
    assert type(err.value) is error
    assert err.value.message.endswith("SomethingNewException: new to us")


def test_unparsed_aws_answer_names_the_status() -> None:
    # botocore's code is the status itself when the body is not AWS's (an HTML 502 page).
    with pytest.raises(ProviderUnavailable) as err, map_failures("ses"):
        raise aws_answer("502", "<html><h1>Bad Gateway</h1></html>", 502)
    assert err.value.message == "ses failed: HTTP 502: <html><h1>Bad Gateway</h1></html>"


def test_aws_throttling_with_retry_after() -> None:
    with pytest.raises(ProviderRateLimited) as err, map_failures("ses"):
        raise aws_answer("Throttling", "Rate exceeded", 400, **{"retry-after": "3"})
    assert err.value.retry_after == 3.0


@pytest.mark.parametrize(
    ("raised", "error", "says"),
    [
        (
            botocore.exceptions.EndpointConnectionError(endpoint_url="https://e"),
            ProviderUnavailable,
            "could not be reached",
        ),
        (
            botocore.exceptions.ConnectTimeoutError(endpoint_url="https://e"),
            ProviderUnavailable,
            "timed out",
        ),
        (
            botocore.exceptions.ReadTimeoutError(endpoint_url="https://e"),
            ProviderUnavailable,
            "timed out",
        ),
        (
            botocore.exceptions.ConnectionClosedError(endpoint_url="https://e"),
            ProviderUnavailable,
            "broke the connection",
        ),
        (botocore.exceptions.NoCredentialsError(), ProviderAuth, "has no credentials"),
        (
            botocore.exceptions.PartialCredentialsError(provider="env", cred_var="AWS_SECRET"),
            ProviderAuth,
            "has no credentials",
        ),
        (
            botocore.exceptions.CredentialRetrievalError(provider="sso", error_msg="expired"),
            ProviderAuth,
            "has no credentials",
        ),
        (
            botocore.exceptions.ParamValidationError(report="Invalid length for Data"),
            ProviderRejected,
            "cannot take the request",
        ),
        (botocore.exceptions.ProfileNotFound(profile="prod"), ProviderError, "failed"),
    ],
)
def test_botocore_errors(raised: Exception, error: type[ProviderError], says: str) -> None:
    with pytest.raises(ProviderError) as err, map_failures("ses"):
        raise raised
    assert type(err.value) is error and says in err.value.message
