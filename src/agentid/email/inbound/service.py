"""The receiving side as one unit: router, SMTP listener (and LMTP, when set), spool and
parse worker. SMTP and LMTP sessions share one set of connection limits and one shutdown."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import ssl

from agentid.email.inbound.listener import Connections
from agentid.email.inbound.listener import Doorway
from agentid.email.inbound.listener import Listener
from agentid.email.inbound.listener import SessionLimits
from agentid.email.inbound.listener import tls_context
from agentid.email.inbound.lmtp import LmtpHandler
from agentid.email.inbound.lmtp import LmtpSession
from agentid.email.inbound.routing import RecipientRouter
from agentid.email.inbound.smtp import InboundHandler
from agentid.email.inbound.socketmap import MAX_REQUEST
from agentid.email.inbound.socketmap import SocketmapServer
from agentid.email.inbound.spool import Spool
from agentid.email.inbound.verdict_lane import VerdictProcess
from agentid.email.inbound.verdict_lane import Verdicts
from agentid.email.inbound.verdict_records import left_unchecked
from agentid.email.inbound.verdicts import VerdictStage
from agentid.email.inbound.worker import ParseWorker
from agentid.events import Signal
from agentid.runtime import Runtime

log = logging.getLogger("agentid.inbound")


class InboundService:
    def __init__(self, runtime: Runtime) -> None:
        self._rt = runtime
        self.router = RecipientRouter(runtime)
        notifier = runtime.bus.notifier
        self.verdicts: Verdicts = (
            VerdictProcess(
                runtime.settings, runtime.health, self._authenticated, self._unchecked, notifier
            )
            if runtime.settings.parse_processes
            else VerdictStage(runtime.settings, self._authenticated, notifier)  # tests only
        )
        self.worker = ParseWorker(runtime, self.verdicts.submit, self.verdicts.recheck)
        self.spool = Spool(runtime, self.worker.committed)
        self._server: asyncio.Server | None = None
        self._lmtp: list[asyncio.Server] = []
        self.connections = Connections.from_settings(runtime.settings)
        self.port = 0
        self.lmtp_port = 0  # the LMTP TCP port, once listening there
        self._socketmap: asyncio.Server | None = None
        self.socketmap_port = 0  # where Postfix's recipient lookups are answered, if set

    def _authenticated(self, signals: list[Signal]) -> None:
        """Wake this process's waits for authenticated codes: their verdicts are committed
        (and the other processes were told in the same transaction)."""
        for signal in signals:
            self._rt.bus.deliver(signal)

    async def _unchecked(self) -> bool:
        """Whether some digested message still waits for its verdict."""
        async with self._rt.sessions() as session:
            return (await session.execute(left_unchecked().limit(1))).first() is not None

    async def start(self) -> None:
        await self.verdicts.start()
        await self.worker.start()
        await self.worker.recover()
        await self.spool.start()
        await self._answer_lookups()
        await self._listen()

    async def _answer_lookups(self) -> None:
        """Postfix's socketmap lookups (``socketmap.py``), before any mail is taken."""
        settings = self._rt.settings
        if settings.socketmap_port is None:
            return
        self._socketmap = await asyncio.start_server(
            SocketmapServer(self.router).session,
            host=settings.host,
            port=settings.socketmap_port,
            limit=MAX_REQUEST + 16,
            reuse_address=True,
        )
        self.socketmap_port = self._socketmap.sockets[0].getsockname()[1]
        log.info("socketmap listening", extra={"host": settings.host, "port": self.socketmap_port})

    def _session(
        self,
        kind: type[Listener],
        handler: object,
        limits: SessionLimits,
        ident: str,
        context: ssl.SSLContext | None,
    ) -> Listener:
        """One SMTP or LMTP session, with the limits and names both share."""
        settings = self._rt.settings
        return kind(
            handler,
            self.connections,
            limits,
            data_size_limit=settings.max_message_bytes,
            enable_SMTPUTF8=True,
            decode_data=False,
            hostname=settings.smtp_hostname,
            ident=ident,
            tls_context=context,
        )

    async def _listen(self) -> None:
        settings = self._rt.settings
        handler = InboundHandler(settings, self.router, self.spool)
        context = tls_context(settings)

        limits = SessionLimits.from_settings(settings)

        def doorway() -> Doorway:
            return Doorway(
                self.connections,
                lambda: self._session(Listener, handler, limits, "agentid ESMTP", context),
            )

        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            doorway, host=settings.host, port=settings.smtp_port, reuse_address=True
        )
        self.port = self._server.sockets[0].getsockname()[1]
        await self._listen_lmtp(limits)
        self._rt.smtp_ready = True
        log.info(
            "SMTP listening",
            extra={
                "host": settings.host,
                "port": self.port,
                "max_connections": self.connections.total,
            },
        )

    async def _listen_lmtp(self, limits: SessionLimits) -> None:
        """LMTP on a TCP port and/or a unix socket (0660), for an edge MTA; no TLS (it is
        local or on a private network)."""
        settings = self._rt.settings
        if settings.lmtp_port is None and settings.lmtp_socket is None:
            return
        handler = LmtpHandler(settings, self.router, self.spool)

        def doorway() -> Doorway:
            return Doorway(
                self.connections,
                lambda: self._session(LmtpSession, handler, limits, "agentid LMTP", None),
            )

        loop = asyncio.get_running_loop()
        if settings.lmtp_port is not None:
            server = await loop.create_server(
                doorway, host=settings.host, port=settings.lmtp_port, reuse_address=True
            )
            self._lmtp.append(server)
            self.lmtp_port = server.sockets[0].getsockname()[1]
            log.info("LMTP listening", extra={"host": settings.host, "port": self.lmtp_port})
        if settings.lmtp_socket is not None:
            path = settings.lmtp_socket
            with contextlib.suppress(FileNotFoundError):  # left by a stopped server
                if path.is_socket():
                    path.unlink()
            self._lmtp.append(await loop.create_unix_server(doorway, path=str(path)))
            os.chmod(path, 0o660)
            log.info("LMTP listening", extra={"socket": str(path)})

    async def close_listener(self) -> None:
        """Stop taking connections; 421 to idle sessions; DATA in flight may finish."""
        self._rt.smtp_ready = False
        if self._server is not None:
            self._server.close()
        for server in self._lmtp:
            server.close()
        for session in self.connections.sessions:
            session.closing = True
            if session.idle.is_set():
                session.say_goodbye()

    async def stop(self) -> None:
        await self.close_listener()
        busy = [asyncio.ensure_future(s.idle.wait()) for s in self.connections.sessions]
        if busy:
            _, pending = await asyncio.wait(busy, timeout=self._rt.settings.shutdown_grace_seconds)
            for waiter in pending:
                waiter.cancel()
        for session in self.connections.sessions:
            session.say_goodbye()
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None
        for server in self._lmtp:
            await server.wait_closed()
        self._lmtp = []
        if self._socketmap is not None:
            self._socketmap.close()
            self._socketmap = None
        await self.spool.stop()
        await self.worker.stop()
        await self.verdicts.stop()
