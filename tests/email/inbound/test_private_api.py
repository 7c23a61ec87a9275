"""The private members of aiosmtpd and asyncio the listener relies on, where no public way
exists. aiosmtpd is pinned to <1.5 in pyproject.toml; when it (or Python) moves them, this
fails before a session does."""

from __future__ import annotations

import asyncio
import inspect

from aiosmtpd.smtp import SMTP
from aiosmtpd.smtp import Envelope

from agentid.email.inbound.listener import Listener


def test_aiosmtpd_members_the_listener_extends() -> None:
    # DATA is read by agentid.email.inbound.data (the stream aiosmtpd reads commands from),
    # then handed to the handler the way aiosmtpd's own smtp_DATA does.
    assert inspect.iscoroutinefunction(SMTP._call_handler_hook)
    assert list(inspect.signature(SMTP._call_handler_hook).parameters)[:2] == ["self", "command"]
    assert inspect.signature(SMTP._create_envelope).return_annotation in (Envelope, "Envelope")
    source = inspect.getsource(SMTP)
    assert "self._reader = reader" in source  # set in connection_made
    assert "self._handler_coroutine" in source  # the session task QUIT cancels
    assert issubclass(Listener, SMTP)


async def test_stream_reader_limit_is_where_data_lifts_it() -> None:
    reader = asyncio.StreamReader(limit=8)
    assert reader._limit == 8
    reader._limit = 64  # what data.py does for the length of one DATA section
    reader.feed_data(b"a" * 40 + b".\r\n")
    assert await reader.readuntil(b".\r\n") == b"a" * 40 + b".\r\n"
