"""One vendor's HTTP API as an adapter calls it: the base URL, the HTTP client the adapter
was handed, the timeout, the credentials, and how the vendor says what went wrong.

Every call goes through the one failure table (``agentid.providers.failures``): a transport
failure in ``request``, an answer that is not a success in ``check`` (with the vendor's own
words as the detail), an answer without what it should hold in ``answered``. The
credentials are masked in every message; ``name`` ("twilio api.twilio.com") starts them.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from typing import Any

import httpx

from agentid.errors import ProviderRejected
from agentid.providers.failures import check_response
from agentid.providers.failures import map_failures
from agentid.providers.registry import HttpReach

JSON_ACCEPTED = {"Accept": "application/json"}


@dataclass(frozen=True, slots=True)
class VendorApi:
    vendor: str  # names it in messages: "twilio", "sendgrid"
    reach: HttpReach  # the base URL, the client, the timeout
    said: Callable[[httpx.Response], str | None]  # what the vendor said about a failure
    secrets: tuple[str, ...] = field(repr=False)  # never in a message
    auth: tuple[str, str] | None = field(default=None, repr=False)  # HTTP Basic
    headers: Mapping[str, str] = field(default_factory=lambda: JSON_ACCEPTED, repr=False)

    @property
    def name(self) -> str:
        return f"{self.vendor} {httpx.URL(self.reach.endpoint).netloc.decode()}"

    async def request(
        self, method: str, url: str, *, headers: Mapping[str, str] | None = None, **options: Any
    ) -> httpx.Response:
        """``method`` on ``url`` (the endpoint's, or another host of the vendor's) with the
        credentials and ``headers`` (default: the API's own); a transport failure leaves
        as the mapped ``Provider*`` error."""
        if self.auth is not None:
            options["auth"] = self.auth
        with map_failures(self.name, secrets=self.secrets):
            return await self.reach.http.request(
                method,
                url,
                headers=self.headers if headers is None else headers,
                timeout=self.reach.timeout,
                **options,
            )

    def check(self, response: httpx.Response) -> None:
        """Raise the mapped error for an answer that is not a success."""
        check_response(response, self.name, detail=self.said(response), secrets=self.secrets)

    def answered(self, response: httpx.Response, *names: str, missing: str) -> dict[str, Any]:
        """The JSON object the vendor answered, holding every one of ``names``; else
        ``ProviderRejected`` ("<name> <missing>")."""
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict) or any(name not in body for name in names):
            raise ProviderRejected(f"{self.name} {missing}")
        return body


def failure_body(response: httpx.Response) -> Any:
    """The JSON a failure answer holds, for an adapter's ``said`` to read the vendor's words
    in; None for a success or a body that is not JSON."""
    if response.status_code < 400:
        return None
    try:
        return response.json()
    except ValueError:
        return None
