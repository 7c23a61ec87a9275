"""One delivery attempt: resolve the target, check every address, POST to one checked.

The request connects to a checked address itself (the URL's host replaced by it; the next
checked one when it refuses the connection), and names the host in the ``Host`` header
and, over TLS, in SNI, so the certificate is still checked against the name: nothing
resolves the name again between check and connection. The client used keeps no
connection alive (a connection opened for one name is never reused for another that
shares its address), ignores proxy variables, and follows no redirect (a 3xx is a
failure). Every step shares one time budget, ``AGENTID_WEBHOOK_TIMEOUT_SECONDS``.
"""

from __future__ import annotations

import asyncio
import email.utils
import math
import time
from dataclasses import dataclass
from http import HTTPStatus
from typing import TYPE_CHECKING

from agentid.errors import ValidationFailed
from agentid.webhooks import signing
from agentid.webhooks import targets

ERROR_CHARS = 300
USER_AGENT = "agentid-webhooks/1"

if TYPE_CHECKING:  # imported by the first delivery: a service with no webhook loads none
    import httpx


@dataclass(frozen=True, slots=True)
class Outcome:
    """What became of one attempt."""

    status_code: int | None = None  # None: no answer (refused, unreachable, timed out)
    error: str | None = None
    retry_after: float | None = None  # seconds, when a 429 or 503 said how long

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300

    @property
    def gone(self) -> bool:
        """410 Gone: the receiver wants no more (the webhook is disabled)."""
        return self.status_code == 410


def client() -> httpx.AsyncClient:
    """The HTTP client deliveries go through (see the module's docstring)."""
    import httpx

    return httpx.AsyncClient(
        limits=httpx.Limits(max_keepalive_connections=0),
        trust_env=False,
        follow_redirects=False,
        headers={"user-agent": USER_AGENT},
    )


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value[:9])
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


async def post(
    http: httpx.AsyncClient,
    url: str,
    key: bytes,
    message_id: str,
    body: bytes,
    *,
    seconds: float,
    allow_private: bool,
) -> Outcome:
    """POST ``body`` to ``url``, signed with ``key`` now, all within ``seconds``: to the
    first of the checked addresses that takes the connection."""
    import httpx

    started = time.monotonic()
    try:
        target = targets.parse(url)
        async with asyncio.timeout(seconds):
            addresses = await targets.checked_addresses(target, allow_private)
    except targets.Refused as err:
        return Outcome(error=str(err)[:ERROR_CHARS])
    except TimeoutError:
        return Outcome(error=f"resolving the host took more than {seconds:g}s")
    except OSError as err:
        return Outcome(error=f"resolving the host failed: {err}"[:ERROR_CHARS])
    except ValidationFailed as err:  # a URL stored before a rule it now breaks
        return Outcome(error=f"the URL is refused: {err.message}"[:ERROR_CHARS])
    headers = signing.headers(key, message_id, math.floor(time.time()), body)
    headers["host"] = target.host_header()
    extensions = {"sni_hostname": target.host} if target.literal is None else {}
    failure = Outcome(error="no address to connect to")
    for address in addresses:
        left = seconds - (time.monotonic() - started)
        if left <= 0:
            return Outcome(error=f"no answer within {seconds:g}s")
        request = http.build_request(
            "POST",
            target.at(address),
            content=body,
            headers=headers,
            extensions=extensions,
            timeout=httpx.Timeout(left),
        )
        try:
            async with asyncio.timeout(left):  # however slowly the answer trickles in
                response = await http.send(request, stream=True)
        except httpx.ConnectError as err:  # the next address may take it
            why = str(err) or type(err).__name__
            failure = Outcome(error=f"connecting to {address} failed: {why}"[:ERROR_CHARS])
            continue
        except (httpx.TimeoutException, TimeoutError):
            return Outcome(error=f"no answer within {seconds:g}s")
        except httpx.HTTPError as err:
            why = str(err) or type(err).__name__
            return Outcome(error=f"posting to {address} failed: {why}"[:ERROR_CHARS])
        await response.aclose()
        return _outcome(response)
    return failure


def _outcome(response: httpx.Response) -> Outcome:
    code = response.status_code
    if 200 <= code < 300:
        return Outcome(code)
    wait = _retry_after(response.headers.get("retry-after")) if code in (429, 503) else None
    try:
        phrase = HTTPStatus(code).phrase
    except ValueError:  # a status of the receiver's own
        phrase = ""
    return Outcome(code, f"HTTP {code} {phrase}".strip(), wait)
