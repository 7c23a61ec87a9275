"""Running agentid: one process serving the HTTP API and the SMTP listener.

SIGTERM (or SIGINT) stops both listeners at once, wakes long-polls and event streams,
lets SMTP transactions in DATA finish (others get 421), then flushes the store.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import AsyncIterator
from collections.abc import Iterator
from contextlib import asynccontextmanager
from contextlib import contextmanager
from dataclasses import dataclass

import uvicorn

from agentid.app import create_app
from agentid.config import Settings
from agentid.email.inbound.service import InboundService
from agentid.logs import configure_logging
from agentid.malloc import limit_malloc_arenas
from agentid.runtime import Runtime

log = logging.getLogger("agentid.server")


class _Server(uvicorn.Server):
    """uvicorn's server, told to begin agentid's own shutdown before draining HTTP."""

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        app = self.config.loaded_app
        state = getattr(getattr(app, "app", app), "state", None)
        inbound = getattr(state, "inbound", None)
        runtime: Runtime | None = getattr(state, "runtime", None)
        if runtime is not None:
            runtime.stopping.set()
            runtime.bus.close()
        if inbound is not None:
            await inbound.close_listener()
        await super().shutdown(sockets)

    @contextmanager
    def capture_signals(self) -> Iterator[None]:
        """uvicorn's, minus re-raising the signal once stopped (which made a clean SIGTERM
        stop die by the signal): a stop that drained cleanly exits with status 0."""
        with super().capture_signals():
            try:
                yield
            finally:
                self._captured_signals.clear()


def _server(settings: Settings, *, port: int) -> _Server:
    app = create_app(settings)
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=port,
        lifespan="on",
        ws="none",  # no route speaks WebSocket: the websockets library stays unloaded
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=max(1, int(settings.shutdown_grace_seconds)),
        timeout_keep_alive=settings.http_keep_alive_seconds,
        server_header=False,
    )
    return _Server(config)


def run(settings: Settings) -> None:
    """``agentid serve``: run until SIGTERM or SIGINT."""
    limit_malloc_arenas()
    configure_logging(settings.log_level)
    server = _server(settings, port=settings.http_port)
    log.info(
        "agentid starting",
        extra={"http": f"{settings.host}:{settings.http_port}", "smtp_port": settings.smtp_port},
    )
    server.run()


@dataclass(slots=True)
class Running:
    """A server started in this event loop (tests, benchmarks)."""

    settings: Settings
    runtime: Runtime
    inbound: InboundService
    http_port: int

    @property
    def smtp_port(self) -> int:
        return self.inbound.port

    @property
    def lmtp_port(self) -> int:
        """The LMTP TCP port (0 when LMTP does not listen on one)."""
        return self.inbound.lmtp_port

    @property
    def socketmap_port(self) -> int:
        """Where Postfix's recipient lookups are answered (0: not served)."""
        return self.inbound.socketmap_port

    @property
    def url(self) -> str:
        return f"http://{self.settings.host}:{self.http_port}"


@asynccontextmanager
async def running(settings: Settings) -> AsyncIterator[Running]:
    """Start API + SMTP on the configured (or OS-chosen, with 0) ports; stop on exit."""
    server = _server(settings, port=settings.http_port)
    server.capture_signals = _no_signals  # type: ignore[method-assign]
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
            raise RuntimeError("agentid did not start")
        await asyncio.sleep(0.01)
    app = server.config.loaded_app
    state = app.app.state if hasattr(app, "app") else app.state
    http_port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield Running(settings, state.runtime, state.inbound, http_port)
    finally:
        server.should_exit = True
        await task


@contextmanager
def _no_signals() -> Iterator[None]:
    """Servers started inside another program leave its signal handlers alone."""
    yield
