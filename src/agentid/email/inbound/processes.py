"""The one way agentid starts helper processes (spool writer, parse workers).

forkserver, not fork: the server has threads and an event loop that a forked child must
not inherit. The fork server imports the helpers' modules once, so every helper forked
from it shares those pages instead of importing its own copy.
"""

from __future__ import annotations

import asyncio
import multiprocessing
from multiprocessing.context import ForkServerContext
from multiprocessing.process import BaseProcess

PRELOAD = [
    "agentid.email.inbound.spool_writer",
    "agentid.email.inbound.parse_process",
    "agentid.email.inbound.digest",  # the parser and extractor, for the parse workers
    "agentid.email.inbound.preloaded",  # last: freezes what the others loaded
]


def context() -> ForkServerContext:
    ctx = multiprocessing.get_context("forkserver")
    assert isinstance(ctx, ForkServerContext)
    ctx.set_forkserver_preload(PRELOAD)
    return ctx


async def reap(process: BaseProcess, grace: float) -> None:
    """Let ``process`` end by itself for up to ``grace`` seconds (none: at once), then
    kill it; return once it is gone."""
    if grace:
        await asyncio.to_thread(process.join, grace)
    if process.is_alive():
        process.kill()
        await asyncio.to_thread(process.join, 10)
