"""What the web page's routes take from a request, besides the API's own dependencies."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from fastapi import Query
from fastapi import Request

from agentid.errors import Unauthorized
from agentid.web.sessions import SignedIn
from agentid.web.templating import SIGNED_KEY


def signed_in(request: Request) -> SignedIn:
    """The session the cookie gate found for this request."""
    found = request.scope.get(SIGNED_KEY)
    if not isinstance(found, SignedIn):
        raise Unauthorized("signed out: sign in again")
    return found


SignedInDep = Annotated[SignedIn, Depends(signed_in)]


# A checkbox of a page's form as the query string has it: "1" when ticked, absent when not.
Checkbox = Annotated[str | None, Query(max_length=5)]
