"""``Client`` and ``AsyncClient``: every call of the call groups, sent over ``httpx.Client``
or ``httpx.AsyncClient``. The two differ only in how they send a ``Call`` and close."""

from __future__ import annotations

import os
from abc import ABC
from abc import abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from typing import Generic
from typing import Self
from typing import TypeVar

import httpx

from agentid.client.calls import Call
from agentid.client.codes import CodeCalls
from agentid.client.mail import MailCalls
from agentid.client.phone import PhoneCalls
from agentid.client.projects import ProjectCalls
from agentid.client.second_factors import SecondFactors
from agentid.client.webhooks import WebhookCalls
from agentid.errors import Unauthorized
from agentid.errors import Unreachable
from agentid.errors import from_response

DEFAULT_URL = "http://127.0.0.1:8400"
T = TypeVar("T")
Transport = TypeVar("Transport", httpx.BaseTransport, httpx.AsyncBaseTransport)


@contextmanager
def _mapped(base_url: str, path: str) -> Iterator[None]:
    """httpx's errors as ours, the most specific first (the one place the clients map them)."""
    try:
        yield
    except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
        raise Unreachable(
            f"the agentid server at {base_url} is not reachable ({exc or 'no answer'}); "
            "start it with `agentid serve` or point AGENTID_URL at it"
        ) from exc
    except httpx.TimeoutException as exc:
        raise from_response(
            504, "timeout", f"the agentid server at {base_url} did not answer in time"
        ) from exc
    except httpx.HTTPError as exc:
        raise from_response(502, "transport", f"request to {base_url}{path} failed: {exc}") from exc


class _Calls(
    ProjectCalls,
    MailCalls,
    PhoneCalls,
    WebhookCalls,
    CodeCalls,
    SecondFactors,
    ABC,
    Generic[Transport],
):
    """Every call of the API, each written once in its group; ``Client`` and
    ``AsyncClient`` make them."""

    def __init__(
        self,
        base_url: str | None = None,
        token: str | None = None,
        *,
        project: str | None = None,
        transport: Transport | None = None,
        timeout: float = 30,
    ) -> None:
        base_url = base_url or os.environ.get("AGENTID_URL") or DEFAULT_URL
        token = token or os.environ.get("AGENTID_TOKEN")
        if not token:
            raise Unauthorized("no token: pass one or set AGENTID_TOKEN")
        self.base_url = base_url.rstrip("/")
        self.project = project or os.environ.get("AGENTID_PROJECT") or None
        self.timeout = timeout
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        self._connect(
            transport, {"base_url": self.base_url, "headers": headers, "timeout": timeout}
        )

    @abstractmethod
    def _connect(self, transport: Transport | None, options: dict[str, Any]) -> None:
        """Open this client's kind of httpx client (``Client``: sync, ``AsyncClient``:
        async) with ``options``."""


class Client(_Calls[httpx.BaseTransport]):
    """The agentid API over a synchronous ``httpx.Client``."""

    def _connect(self, transport: httpx.BaseTransport | None, options: dict[str, Any]) -> None:
        self._http = httpx.Client(transport=transport, **options)

    def _run(self, call: Call[T]) -> T:
        with _mapped(self.base_url, call.path):
            response = self._http.send(call.request(self._http, self.timeout))
        return call.answer(response)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class AsyncClient(_Calls[httpx.AsyncBaseTransport]):
    """The agentid API over an ``httpx.AsyncClient``: the same methods, awaited."""

    def _connect(self, transport: httpx.AsyncBaseTransport | None, options: dict[str, Any]) -> None:
        self._http = httpx.AsyncClient(transport=transport, **options)

    async def _run(self, call: Call[T]) -> T:
        with _mapped(self.base_url, call.path):
            response = await self._http.send(call.request(self._http, self.timeout))
        return call.answer(response)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()
