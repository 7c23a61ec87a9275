"""What a list route takes: ``limit``, and ``before``, the ``next`` the previous page
answered (an id, a project id or an address: whatever the list is ordered by). The lists
that long-poll (the inbox, SMS) take a ``window`` besides: ``since`` and ``after`` too.

Each list answers ``next`` (None on the last page); the rows past it in the list's order
are the next page (agentid.store.repository).
"""

# No ``from __future__ import annotations``: FastAPI reads the parameters' annotations,
# which name ``cursor_length`` from the enclosing call.
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated
from typing import Any

from fastapi import Depends
from fastapi import Query

from agentid.filters import cursor_filter
from agentid.filters import since_utc
from agentid.store.repository import Window

MAX_LIMIT = 500
DEFAULT_LIMIT = 100
MAX_WAIT = 300  # seconds a long-poll (``wait=``) may hold its answer back


@dataclass(frozen=True, slots=True)
class Paging:
    limit: int
    before: str | None


def paging(cursor_length: int) -> Any:
    """The ``limit`` and ``before`` parameters of a list whose cursor is at most
    ``cursor_length`` characters."""

    def parameters(
        before: Annotated[
            str | None,
            Query(max_length=cursor_length, description="the `next` of the previous page"),
        ] = None,
        limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    ) -> Paging:
        return Paging(limit, before)

    return Depends(parameters)


IdPaging = Annotated[Paging, paging(26)]  # a list by id (tokens)
SlugPaging = Annotated[Paging, paging(63)]  # a list by project id
AddressPaging = Annotated[Paging, paging(320)]  # a list by address (aliases)

# The query parameters of the lists that long-poll (the inbox, SMS, codes): a cursor on an
# id-ordered list (``before``, ``after``), a page size, and ``wait``.
IdCursor = Annotated[str | None, Query(max_length=26)]
PageLimit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]
LongPoll = Annotated[float, Query(ge=0, le=MAX_WAIT)]


def window(what: str) -> Any:
    """The ``since``, ``after``, ``before`` and ``limit`` parameters of a list ordered by id,
    checked: ``what`` names the list's ids in the 422 a cursor that is not one gets."""

    def parameters(
        since: datetime | None = None,
        after: IdCursor = None,
        before: IdCursor = None,
        limit: PageLimit = 50,
    ) -> Window:
        return Window(
            since_utc(since),
            cursor_filter(after, "after", what),
            cursor_filter(before, "before", what),
            limit,
        )

    return Depends(parameters)


MessageWindow = Annotated[Window, window("a message id")]  # the inbox
SmsWindow = Annotated[Window, window("an SMS id")]
