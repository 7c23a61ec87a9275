"""One call of the agentid API described without doing it (sans-IO): method, path, query,
body, and how to read the answer into a model of the features' ``schemas.py``.

The call groups (``projects``, ``mail``, ``phone``, ``webhooks``, ``codes``,
``second_factors``; each a ``CallGroup``) write every call once as a ``Call`` (a method
decorated with ``endpoint``); ``Client`` and ``AsyncClient`` only send it and hand the
response back to ``Call.answer``. An error answer becomes the matching ``agentid.errors``
class here; an answer that is not the model it should be, a 502 ``bad_response``.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Coroutine
from dataclasses import dataclass
from dataclasses import field
from datetime import datetime
from typing import TYPE_CHECKING
from typing import Any
from typing import Concatenate
from typing import Generic
from typing import ParamSpec
from typing import Self
from typing import TypeVar
from typing import overload
from urllib.parse import quote

import httpx
from pydantic import BaseModel
from pydantic import ValidationError

from agentid.client.filters import Paging
from agentid.errors import AgentIDError
from agentid.errors import ValidationFailed
from agentid.errors import from_response

if TYPE_CHECKING:
    from agentid.client import AsyncClient
    from agentid.client import Client

JSON = dict[str, Any]
Value = str | int | float | bool | datetime | list[str] | None
T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)
P = ParamSpec("P")
LONG_POLL_SLACK = 10  # seconds a long poll's read timeout allows beyond its `wait`


def segment(value: str) -> str:
    """One path segment, escaped (an alias address keeps its ``@`` and ``+``)."""
    return quote(value, safe="@+")


Params = dict[str, str | list[str]]


def query(**values: Value) -> Params:
    """Query parameters without the unset ones; booleans as ``true``/``false``; a list as
    the parameter repeated; a trailing underscore (``from_``, a Python keyword) is dropped
    from the name."""
    out: Params = {}
    for key, value in values.items():
        if value is None:
            continue
        name = key.removesuffix("_")
        if isinstance(value, bool):
            out[name] = "true" if value else "false"
        elif isinstance(value, float) and value.is_integer():
            out[name] = str(int(value))  # wait=60, not 60.0, for servers that want an integer
        elif isinstance(value, datetime):
            out[name] = value.isoformat()
        elif isinstance(value, list):
            out[name] = [str(item) for item in value]
        else:
            out[name] = str(value)
    return out


def json_body(**values: Value) -> JSON:
    """A JSON body without the unset fields."""
    return {
        key: value.isoformat() if isinstance(value, datetime) else value
        for key, value in values.items()
        if value is not None
    }


def reads(model: type[M]) -> Callable[[httpx.Response], M]:
    """How to read an answer that is one ``model`` (unknown fields are ignored)."""

    def read(response: httpx.Response) -> M:
        try:
            return model.model_validate_json(response.content)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(part) for part in first["loc"]) or "body"
            raise from_response(
                502,
                "bad_response",
                f"{response.request.method} {response.request.url.path}: the answer is not "
                f"a {model.__name__} ({where}: {first['msg']})",
            ) from None

    return read


def read_bytes(response: httpx.Response) -> bytes:
    return response.content


def read_nothing(response: httpx.Response) -> None:
    return None


@dataclass(frozen=True)
class Call(Generic[T]):
    """One API call, described without doing it: both clients send it the same way."""

    method: str
    path: str
    read: Callable[[httpx.Response], T]
    params: Params = field(default_factory=dict)
    json: JSON | None = None
    wait: float | None = None  # a long poll holds the answer back for up to `wait` seconds

    def request(self, http: httpx.Client | httpx.AsyncClient, timeout: float) -> httpx.Request:
        read_timeout = timeout if self.wait is None else self.wait + LONG_POLL_SLACK
        return http.build_request(
            self.method,
            self.path,
            params=self.params or None,
            json=self.json,
            timeout=httpx.Timeout(timeout, read=read_timeout),
        )

    def answer(self, response: httpx.Response) -> T:
        if response.is_error:
            raise error_of(response)
        return self.read(response)


def error_of(response: httpx.Response) -> AgentIDError:
    """The error an API answer describes; a body not in the API's shape still gives one line."""
    try:
        body = response.json()
        err = body["error"]
        return from_response(response.status_code, str(err["code"]), str(err["message"]))
    except (ValueError, KeyError, TypeError):
        text = response.text.strip().splitlines()[0][:200] if response.text.strip() else ""
        detail = text or response.reason_phrase or "error"
        return from_response(
            response.status_code,
            f"http_{response.status_code}",
            f"HTTP {response.status_code}: {detail}",
        )


def page(path: str, model: type[M], paging: Paging) -> Call[M]:
    """One page of a list: at most ``limit`` items after the cursor ``before``."""
    return Call("GET", path, reads(model), params=query(**paging))


class CallGroup:
    """What every group of calls shares: the project a call is on, the one given or else
    the client's own (``project=``, ``AGENTID_PROJECT``), and paths under it."""

    project: str | None

    def _project(self, project_id: str | None) -> str:
        chosen = project_id or self.project
        if not chosen:
            raise ValidationFailed("no project: name it, or set AGENTID_PROJECT (project=)")
        return chosen

    def _path(self, project_id: str | None, tail: str) -> str:
        return f"/projects/{segment(self._project(project_id))}/{tail}"


class endpoint(Generic[P, T]):  # a decorator, lower-case like property
    """Turns a method that describes a ``Call`` into one that makes it: on a ``Client`` it
    returns the answer, on an ``AsyncClient`` a coroutine of it (same parameters either way)."""

    def __init__(self, build: Callable[Concatenate[Any, P], Call[T]]) -> None:
        self._build = build
        self.__doc__ = build.__doc__

    @overload
    def __get__(self, client: None, owner: type[Any]) -> Self: ...
    @overload
    def __get__(self, client: Client, owner: type[Any]) -> Callable[P, T]: ...
    @overload
    def __get__(
        self, client: AsyncClient, owner: type[Any]
    ) -> Callable[P, Coroutine[Any, Any, T]]: ...
    def __get__(self, client: Client | AsyncClient | None, owner: type[Any]) -> Any:
        if client is None:
            return self
        build = self._build

        def call(*args: Any, **kwargs: Any) -> Any:
            return client._run(build(client, *args, **kwargs))

        call.__name__ = call.__qualname__ = build.__name__
        call.__doc__ = build.__doc__
        return call


def fixed(
    build: Callable[Concatenate[Any, str, P], Call[T]], first: str, name: str, doc: str
) -> endpoint[P, T]:
    """The endpoint ``name``: ``build`` with its first argument after the client fixed to
    ``first`` (two calls described once, such as ``wait_for_code`` and ``wait_for_link``)."""

    def made(client: Any, /, *args: P.args, **kwargs: P.kwargs) -> Call[T]:
        return build(client, first, *args, **kwargs)

    made.__name__ = made.__qualname__ = name
    made.__doc__ = doc
    return endpoint(made)
