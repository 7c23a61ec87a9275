"""The client's calls on the codes and links found in what arrived, and the waits for the
next one (``wait_for_code``, ``wait_for_link``)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from datetime import timedelta
from typing import Unpack

import httpx

from agentid.client.calls import Call
from agentid.client.calls import CallGroup
from agentid.client.calls import endpoint
from agentid.client.calls import fixed
from agentid.client.calls import query
from agentid.client.calls import reads
from agentid.client.filters import CodeFilter
from agentid.codes.schemas import CodeList
from agentid.codes.schemas import CodeOut
from agentid.errors import SmsFiltered
from agentid.errors import Timeout
from agentid.times import utcnow

RECENT = timedelta(minutes=5)  # wait_for_code's default since: the code often lands first


class CodeCalls(CallGroup):
    @endpoint
    def codes(self, project_id: str | None = None, **filters: Unpack[CodeFilter]) -> Call[CodeList]:
        """Codes and links found in what arrived, newest first."""
        path = self._path(project_id, "codes")
        return Call("GET", path, reads(CodeList), params=query(**filters), wait=filters.get("wait"))

    def _wait_for(
        self,
        kind: str,
        site: str | list[str] | None = None,
        channel: str | None = None,
        since: str | datetime | None = None,
        from_contains: str | None = None,
        timeout: float = 60,
        *,
        to: str | None = None,
        authenticated: bool | None = None,
        project: str | None = None,
    ) -> Call[CodeOut]:
        filters: CodeFilter = {
            "authenticated": authenticated,
            "kind": kind,
            "site": site,
            "channel": channel,
            "since": utcnow() - RECENT if since is None else since,
            "from_": from_contains,
            "to": to,
            "consume": True,
            "limit": 1,
            "wait": timeout,
        }
        path = self._path(project, "codes")
        return Call("GET", path, _first_of(kind, timeout), params=query(**filters), wait=timeout)

    wait_for_code = fixed(
        _wait_for,
        "code",
        "wait_for_code",
        """The newest unused code received since ``since`` (default: five minutes before the
        call), from ``site`` when given, marked used; waits up to ``timeout`` seconds, then
        raises ``Timeout`` (its ``skipped`` says what arrived and why it was not the one), or
        ``SmsFiltered`` at once when the provider reported an SMS to the number filtered.
        ``authenticated=True`` takes only a code whose mail passed agentid's DMARC check
        (None: the project's default).""",
    )
    wait_for_link = fixed(
        _wait_for,
        "link",
        "wait_for_link",
        """``wait_for_code`` for a magic link (its ``value`` is the URL).""",
    )


def _first_of(kind: str, timeout: float) -> Callable[[httpx.Response], CodeOut]:
    read_list = reads(CodeList)

    def read(response: httpx.Response) -> CodeOut:
        page = read_list(response)
        filtered = [n for n in page.notices if n.kind == "sms.filtered"]
        if not page.codes and filtered:
            said = ", ".join(f"error {n.error_code} at {n.at:%H:%M:%S}" for n in filtered[:5])
            raise SmsFiltered(
                f"no {kind} arrived: the provider filtered an SMS to the number ({said}); "
                "waiting again will not bring it",
                notices=filtered,
                skipped=list(page.skipped),
            )
        if not page.codes:
            why = "; ".join(f"{s.from_}: {s.reason}" for s in page.skipped[:5])
            raise Timeout(
                f"no {kind} arrived within {timeout:g}s" + (f" (skipped {why})" if why else ""),
                skipped=list(page.skipped),
            )
        return page.codes[0]

    return read
