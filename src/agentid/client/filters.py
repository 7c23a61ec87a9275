"""What the list calls take: a page (``limit``, ``before``) and the filters of the inbox,
the SMS and the codes. Only what is given is sent."""

from __future__ import annotations

from datetime import datetime
from typing import TypedDict


class Paging(TypedDict, total=False):
    """One page of a list: at most ``limit`` items, after the cursor ``before`` (the previous
    page's ``next``); only what is given is sent."""

    limit: int | None
    before: str | None


class _Arrivals(Paging, total=False):
    """What the inbox and the codes are filtered by (only what is given is sent)."""

    to: str | None  # an address agentid accepted the mail for
    header_to: str | None  # an address in the To/Cc the sender wrote
    from_: str | None
    since: str | datetime | None
    after: str | None  # only newer than this id
    wait: float | None  # long-poll: wait up to this many seconds for something to match


class InboxFilter(_Arrivals, total=False):
    subject: str | None
    unread: bool | None


class SmsFilter(Paging, total=False):
    """What the SMS list is filtered by (only what is given is sent)."""

    from_: str | None  # the sender's number contains this
    contains: str | None  # the body contains this (any case)
    since: str | datetime | None
    after: str | None  # only newer than this id
    wait: float | None  # long-poll: wait up to this many seconds for one to match


class CodeFilter(_Arrivals, total=False):
    channel: str | None  # email | sms
    kind: str | None  # code | link
    site: str | list[str] | None  # only codes from this site (its registrable domain)
    authenticated: bool | None
    unused: bool | None
    consume: bool | None  # mark the codes returned as used
