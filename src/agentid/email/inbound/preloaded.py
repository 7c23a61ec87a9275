"""Imported last by the fork server, after the helpers' modules.

First, one digest against an empty store in memory and one parse of a sample message:
what SQLAlchemy sets up once per process (the dialect, its compilers, the statements'
cache keys) and the parser's own first calls happen here, in pages every helper shares,
instead of in each parse worker on its first message (about 15 ms of that message's
wait, and 6 MB of each worker's memory had the worker done it itself). Then everything
loaded so far is moved out of the garbage collector's reach, so the collector running in
a helper does not write to (and so copy) the pages every helper shares with the fork
server."""

from __future__ import annotations

import gc

from sqlalchemy import create_engine

from agentid.email.inbound.digest import digest
from agentid.email.inbound.parse import parse_message
from agentid.store.tables import Base

# A message like those agents wait for (text and HTML, a code, a link)
_SAMPLE = (
    b"From: Shop <no-reply@shop.example>\r\nTo: agent@project.example\r\n"
    b"Subject: Your code is 482913\r\nMessage-ID: <warm-up@shop.example>\r\n"
    b"MIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary=b\r\n\r\n"
    b"--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
    b"Your verification code is 482913.\r\nhttps://shop.example/verify?token=k3f9x2\r\n"
    b"--b\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
    b"<p>Your verification code is <b>482913</b>.</p>"
    b'<a href="https://shop.example/verify?token=k3f9x2">Verify</a>\r\n--b--\r\n'
)


def _first_digest() -> None:
    engine = create_engine("sqlite://")
    try:
        Base.metadata.create_all(engine)
        digest(engine, [])
    finally:
        engine.dispose()
    parse_message(_SAMPLE)


_first_digest()
gc.collect()
gc.freeze()
