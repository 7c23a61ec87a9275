"""A small typed client of the agentid HTTP API (used by the CLI, usable from any Python code).

    client = Client("http://127.0.0.1:8400", token)
    client.create_project("acme", domain="acme.test")
    code = client.codes("acme", unused=True, consume=True, limit=1, wait=60)["codes"]

Every method returns the API's JSON as plain dicts (``raw`` returns bytes). A non-2xx answer
raises the matching ``agentid.errors`` class; a server that cannot be reached raises
``Unreachable``. Tests hand in an ``httpx`` transport instead of a network.
"""

from __future__ import annotations

from types import TracebackType
from typing import Any
from urllib.parse import quote

import httpx

from agentid.errors import AgentIDError, Unreachable, from_response

JSON = dict[str, Any]


def _seg(value: str) -> str:
    """One path segment, escaped (an alias address keeps its ``@`` and ``+``)."""
    return quote(value, safe="@+")


def _params(**values: str | int | float | bool | None) -> dict[str, str]:
    """Query parameters without the unset ones; booleans as ``true``/``false``; a trailing
    underscore (``from_``, a Python keyword) is dropped from the name."""
    out: dict[str, str] = {}
    for key, value in values.items():
        if value is None:
            continue
        name = key.removesuffix("_")
        if isinstance(value, bool):
            out[name] = "true" if value else "false"
        elif isinstance(value, float) and value.is_integer():
            out[name] = str(int(value))  # wait=60, not 60.0, for servers that want an integer
        else:
            out[name] = str(value)
    return out


class Client:
    """The agentid API over a synchronous ``httpx.Client``."""

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        transport: httpx.BaseTransport | None = None,
        timeout: float = 30,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self._http = httpx.Client(
            base_url=self.base_url,
            headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
            transport=transport,
            timeout=timeout,
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- plumbing ---------------------------------------------------------------------------

    def _send(
        self,
        method: str,
        path: str,
        *,
        json: JSON | None = None,
        params: dict[str, str] | None = None,
        wait: float | None = None,
    ) -> httpx.Response:
        timeout = httpx.Timeout(self.timeout)
        if wait is not None:  # a long poll holds the answer back for up to `wait` seconds
            timeout = httpx.Timeout(self.timeout, read=wait + 10)
        try:
            response = self._http.request(method, path, json=json, params=params, timeout=timeout)
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            raise Unreachable(
                f"the agentid server at {self.base_url} is not reachable ({exc or 'no answer'}); "
                "start it with `agentid serve` or point AGENTID_URL at it"
            ) from exc
        except httpx.TimeoutException as exc:
            raise from_response(
                504, "timeout", f"the agentid server at {self.base_url} did not answer in time"
            ) from exc
        except httpx.HTTPError as exc:
            raise from_response(
                502, "transport", f"request to {self.base_url}{path} failed: {exc}"
            ) from exc
        if response.is_error:
            raise _error(response)
        return response

    def _json(self, method: str, path: str, **kwargs: Any) -> JSON:
        response = self._send(method, path, **kwargs)
        if response.status_code == 204 or not response.content:
            return {}
        body = response.json()
        if not isinstance(body, dict):
            raise from_response(502, "bad_response", f"{method} {path}: expected a JSON object")
        return body

    # -- projects and tokens ----------------------------------------------------------------

    def create_project(self, id: str, domain: str | None = None) -> JSON:
        body: JSON = {"id": id}
        if domain is not None:
            body["domain"] = domain
        return self._json("POST", "/projects", json=body)

    def list_projects(self) -> JSON:
        return self._json("GET", "/projects")

    def get_project(self, id: str) -> JSON:
        return self._json("GET", f"/projects/{_seg(id)}")

    def create_token(self, project_id: str, scopes: list[str] | None = None) -> JSON:
        body: JSON = {} if scopes is None else {"scopes": scopes}
        return self._json("POST", f"/projects/{_seg(project_id)}/tokens", json=body)

    def list_tokens(
        self, project_id: str, *, limit: int | None = None, before: str | None = None
    ) -> JSON:
        params = {k: v for k, v in (("limit", limit), ("before", before)) if v is not None}
        return self._json("GET", f"/projects/{_seg(project_id)}/tokens", params=params)

    def revoke_token(self, project_id: str, token_id: str) -> None:
        self._json("DELETE", f"/projects/{_seg(project_id)}/tokens/{_seg(token_id)}")

    # -- email identity ---------------------------------------------------------------------

    def provision_email(self, project_id: str, address: str | None = None) -> JSON:
        body: JSON = {} if address is None else {"address": address}
        return self._json("POST", f"/projects/{_seg(project_id)}/email/provision", json=body)

    def new_alias(
        self,
        project_id: str,
        label: str | None = None,
        local_part: str | None = None,
        expires_at: str | None = None,
    ) -> JSON:
        body: JSON = {}
        for name, value in (
            ("label", label),
            ("local_part", local_part),
            ("expires_at", expires_at),
        ):
            if value is not None:
                body[name] = value
        return self._json("POST", f"/projects/{_seg(project_id)}/email/aliases", json=body)

    def list_aliases(self, project_id: str) -> JSON:
        return self._json("GET", f"/projects/{_seg(project_id)}/email/aliases")

    def delete_alias(self, project_id: str, address: str) -> None:
        self._send("DELETE", f"/projects/{_seg(project_id)}/email/aliases/{_seg(address)}")

    # -- messages ---------------------------------------------------------------------------

    def inbox(
        self,
        project_id: str,
        *,
        to: str | None = None,
        from_: str | None = None,
        subject: str | None = None,
        since: str | None = None,
        unread: bool | None = None,
        limit: int | None = None,
        before: str | None = None,
        after: str | None = None,
        wait: float | None = None,
    ) -> JSON:
        params = _params(
            to=to,
            from_=from_,
            subject=subject,
            since=since,
            unread=unread,
            limit=limit,
            before=before,
            after=after,
            wait=wait,
        )
        path = f"/projects/{_seg(project_id)}/email/inbox"
        return self._json("GET", path, params=params, wait=wait)

    def _message_path(self, project_id: str, mid: str) -> str:
        return f"/projects/{_seg(project_id)}/email/messages/{_seg(mid)}"

    def message(self, project_id: str, mid: str) -> JSON:
        return self._json("GET", self._message_path(project_id, mid))

    def raw(self, project_id: str, mid: str) -> bytes:
        return self._send("GET", self._message_path(project_id, mid) + "/raw").content

    def mark_read(self, project_id: str, mid: str) -> JSON:
        return self._json("PATCH", self._message_path(project_id, mid), json={"unread": False})

    def delete_message(self, project_id: str, mid: str) -> None:
        self._send("DELETE", self._message_path(project_id, mid))

    # -- codes ------------------------------------------------------------------------------

    def codes(
        self,
        project_id: str,
        *,
        channel: str | None = None,
        kind: str | None = None,
        since: str | None = None,
        after: str | None = None,
        before: str | None = None,
        from_: str | None = None,
        to: str | None = None,
        unused: bool | None = None,
        consume: bool | None = None,
        wait: float | None = None,
        limit: int | None = None,
    ) -> JSON:
        params = _params(
            channel=channel,
            kind=kind,
            since=since,
            after=after,
            before=before,
            from_=from_,
            to=to,
            unused=unused,
            consume=consume,
            wait=wait,
            limit=limit,
        )
        return self._json("GET", f"/projects/{_seg(project_id)}/codes", params=params, wait=wait)


def _error(response: httpx.Response) -> AgentIDError:
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
