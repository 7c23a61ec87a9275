"""The SMTP protocol side: aiosmtpd's SMTP with a fast, exact DATA reader, limits that keep
any one client from sinking the service, and a shutdown that lets messages in DATA finish
while every other session gets 421.

The limits follow Postfix's defaults; each one ends the session with a 421 and one log line
(never one per command):

- **connections**: at most ``total`` sessions at once (default half the process's open-file
  soft limit: the rest stays for the API, the store and the spool) and ``per_client`` from
  one address (networks in the exceptions aside); more are answered 421 at connect;
- **command timeout**: a client has ``timeout`` seconds from connecting, and then from each
  MAIL, RCPT or DATA, to move on; NOOP, RSET and the like never restart the clock;
- **junk commands** (HELO, EHLO, NOOP, RSET, VRFY, HELP, EXPN) and **errors** (any 4xx or
  5xx reply, refused recipients and unknown commands included; aiosmtpd itself hangs up
  after five unknown commands): at most so many per session. A message accepted forgives
  both, as in Postfix, so any number of transactions fits in one session.
"""

from __future__ import annotations

import asyncio
import logging
import math
import resource
import ssl
from collections import Counter
from collections.abc import Callable
from collections.abc import Sequence
from dataclasses import dataclass
from ipaddress import IPv4Network
from ipaddress import IPv6Address
from ipaddress import IPv6Network
from ipaddress import ip_address
from typing import Any
from typing import AnyStr

from aiosmtpd.smtp import MISSING
from aiosmtpd.smtp import SMTP
from aiosmtpd.smtp import syntax

from agentid.config import Settings
from agentid.email.inbound.data import receive
from agentid.email.inbound.incoming import attach
from agentid.email.inbound.incoming import incoming_of
from agentid.email.inbound.replies import DATA_OK
from agentid.email.inbound.replies import DATA_SYNTAX
from agentid.email.inbound.replies import NEED_RCPT
from agentid.email.inbound.replies import SHUTTING_DOWN
from agentid.email.inbound.replies import START_DATA
from agentid.email.inbound.replies import TIMED_OUT
from agentid.email.inbound.replies import TOO_MANY_CONNECTIONS
from agentid.email.inbound.replies import TOO_MANY_ERRORS
from agentid.email.inbound.replies import TOO_MANY_FROM_CLIENT
from agentid.email.inbound.replies import TOO_MANY_JUNK_COMMANDS
from agentid.email.inbound.replies import is_error

log = logging.getLogger("agentid.smtp")

GOODBYE_GRACE = 2.0  # seconds a peer has to take our last reply before the socket is cut
UNLIMITED_FILES = 1 << 20  # what an unlimited RLIMIT_NOFILE counts as (Linux's nr_open)


def default_max_connections() -> int:
    """Half the process's open-file soft limit."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        soft = UNLIMITED_FILES
    return max(1, soft // 2)


def peer_text(peer: Any) -> str:
    return f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) else str(peer)


def hang_up(transport: asyncio.BaseTransport, reply: str) -> None:
    """Write ``reply`` and close; a peer that will not take it is cut off after a grace."""
    if transport.is_closing():
        return
    if not isinstance(transport, asyncio.WriteTransport):
        transport.close()
        return
    transport.write(reply.encode() + b"\r\n")
    transport.close()
    if transport.get_write_buffer_size():
        asyncio.get_running_loop().call_later(GOODBYE_GRACE, transport.abort)


@dataclass(frozen=True, slots=True)
class SessionLimits:
    timeout: float
    junk_commands: int
    errors: int

    @classmethod
    def from_settings(cls, settings: Settings) -> SessionLimits:
        return cls(
            timeout=settings.smtp_command_timeout_seconds,
            junk_commands=settings.smtp_max_junk_commands,
            errors=settings.smtp_max_errors,
        )


class Connections:
    """The sessions open now, and whether one more may open."""

    def __init__(
        self, total: int, per_client: int, exceptions: Sequence[IPv4Network | IPv6Network] = ()
    ) -> None:
        self.total = total
        self.per_client = per_client
        self._exceptions = tuple(exceptions)
        self._open: dict[Listener, str | None] = {}
        self._per_client: Counter[str] = Counter()

    @classmethod
    def from_settings(cls, settings: Settings) -> Connections:
        return cls(
            total=settings.smtp_max_connections or default_max_connections(),
            per_client=settings.smtp_max_connections_per_client,
            exceptions=settings.smtp_connection_limit_exceptions,
        )

    @property
    def sessions(self) -> list[Listener]:
        return list(self._open)

    def __len__(self) -> int:
        return len(self._open)

    def client_of(self, peer: Any) -> str | None:
        """The address the per-client cap counts ``peer`` under; None when it is exempt."""
        if not isinstance(peer, tuple) or not peer:
            return None
        try:
            address = ip_address(str(peer[0]).partition("%")[0])
        except ValueError:
            return None
        if isinstance(address, IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        if any(address in network for network in self._exceptions):
            return None
        return str(address)

    def refusal(self, client: str | None) -> str | None:
        """The 421 for one more session from ``client``, or None when it may open."""
        if len(self._open) >= self.total:
            return TOO_MANY_CONNECTIONS
        if client is not None and self._per_client[client] >= self.per_client:
            return TOO_MANY_FROM_CLIENT
        return None

    def add(self, session: Listener, client: str | None) -> None:
        self._open[session] = client
        if client is not None:
            self._per_client[client] += 1

    def remove(self, session: Listener) -> None:
        if session not in self._open:
            return
        client = self._open.pop(session)
        if client is not None:
            self._per_client[client] -= 1
            if self._per_client[client] <= 0:
                del self._per_client[client]


class Doorway(asyncio.Protocol):
    """Where every connection comes in: admitted, it is handed to a new session; refused,
    it is answered 421 and closed before any SMTP state is made for it."""

    def __init__(self, connections: Connections, session: Callable[[], Listener]) -> None:
        self._connections = connections
        self._session = session

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        peer = transport.get_extra_info("peername")
        client = self._connections.client_of(peer)
        refusal = self._connections.refusal(client)
        if refusal is not None:
            log.info("SMTP connection refused", extra={"peer": peer_text(peer), "reply": refusal})
            hang_up(transport, refusal)
            return
        session = self._session()
        self._connections.add(session, client)
        transport.set_protocol(session)
        session.connection_made(transport)


def _guarded(
    command: str, check: str, usage: str | None, extended: str | None = None
) -> Any:  # a handler aiosmtpd finds by name
    """aiosmtpd's own handler of ``command``, run only when the session's ``check``
    (``_junk_allowed`` or ``_moving_on``) lets it; ``usage`` is its HELP line."""
    own = getattr(SMTP, f"smtp_{command}")

    async def handler(self: Any, arg: Any) -> None:
        if getattr(self, check)():
            await own(self, arg)

    handler.__name__ = handler.__qualname__ = f"smtp_{command}"
    return handler if usage is None else syntax(usage, extended=extended)(handler)


class Listener(SMTP):
    """One SMTP session. The ``smtp_*`` verbs below wrap aiosmtpd's own (its documented way
    to extend a command) only to keep the limits; ``push`` and the connection callbacks
    are overridden too, as marked."""

    def __init__(
        self, handler: Any, connections: Connections, limits: SessionLimits, **kwargs: Any
    ) -> None:
        # aiosmtpd's own timer, restarted by every command, stays behind ours as a backstop.
        super().__init__(handler, timeout=2 * limits.timeout, **kwargs)
        self._connections = connections
        self._limits = limits
        self.closing = False
        self.idle = asyncio.Event()  # set while not inside DATA
        self.idle.set()
        self._clock: asyncio.TimerHandle | None = None
        self._deadline = math.inf  # when the client's time is up (loop time)
        self._junk = 0
        self._errors = 0
        self._over = False  # the last reply went out: nothing more is run or answered
        self._why: str | None = None  # the limit that ended the session, for its log line

    # Overrides (aiosmtpd calls connection_made again after STARTTLS): start the clock once;
    # leave the connection count and log the session's end.
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        first = self.transport is None
        super().connection_made(transport)
        if first:
            self._restart_clock()

    def connection_lost(self, error: Exception | None) -> None:
        self._connections.remove(self)
        self._stop_clock()
        if self._why is not None:
            peer = self.session.peer if self.session is not None else None
            log.info(
                "SMTP session ended",
                extra={
                    "peer": peer_text(peer),
                    "reason": self._why,
                    "errors": self._errors,
                    "junk_commands": self._junk,
                },
            )
            self._why = None
        super().connection_lost(error)

    # Overrides aiosmtpd's push, which every reply goes through, to count the errors.
    async def push(self, status: AnyStr) -> None:
        if self._over:
            return
        text = status if isinstance(status, str) else status.decode("utf-8", "replace")
        if is_error(text):
            self._errors += 1
            if self._errors > self._limits.errors:
                self._end(TOO_MANY_ERRORS, "too many errors")
                return
        await super().push(status)

    # Commands that move no mail are counted and never restart the clock; commands that
    # move a transaction on restart it. Each is aiosmtpd's own, behind that check.
    smtp_HELO = _guarded("HELO", "_junk_allowed", "HELO hostname")
    smtp_EHLO = _guarded("EHLO", "_junk_allowed", "EHLO hostname")
    smtp_NOOP = _guarded("NOOP", "_junk_allowed", "NOOP [ignored]")
    smtp_RSET = _guarded("RSET", "_junk_allowed", "RSET")
    smtp_VRFY = _guarded("VRFY", "_junk_allowed", "VRFY <address>")
    smtp_HELP = _guarded("HELP", "_junk_allowed", "HELP [command]")
    smtp_EXPN = _guarded("EXPN", "_junk_allowed", None)
    smtp_MAIL = _guarded("MAIL", "_moving_on", "MAIL FROM: <address>", " [SP <mail-parameters>]")
    smtp_RCPT = _guarded("RCPT", "_moving_on", "RCPT TO: <address>", " [SP <mail-parameters>]")

    @syntax("DATA")
    async def smtp_DATA(self, arg: str) -> None:
        if not self._moving_on():
            return
        if await self.check_helo_needed() or await self.check_auth_needed("DATA"):
            return
        assert self.envelope is not None
        if not self.envelope.rcpt_tos:
            await self.push(NEED_RCPT)
            return
        if arg:
            await self.push(DATA_SYNTAX)
            return
        self.idle.clear()
        try:
            await self._data()
        finally:
            self.idle.set()
        if self.closing:
            self.say_goodbye()

    async def _data(self) -> None:
        assert self.envelope is not None
        await self.push(START_DATA)
        incoming = incoming_of(self.event_handler)
        try:
            content = await receive(self._reader, self.data_size_limit, incoming)
        except asyncio.IncompleteReadError:  # the peer left mid-message: nothing to keep
            if self.transport is not None:
                self.transport.close()
            return
        self._deadline = math.inf  # the handler's time is ours, not the client's
        if isinstance(content, str):  # too big, or it could not be kept
            reply = content
        else:
            with content:  # then its file goes, unless the spool took it
                attach(self.envelope, content)
                status = await self._call_handler_hook("DATA")
            reply = DATA_OK if status is MISSING else status
            if reply.startswith("250"):  # mail delivered: Postfix forgives what came before
                self._junk = self._errors = 0
        await self.push(self.data_replies(reply))
        self.envelope = self._create_envelope()
        self._restart_clock()

    def data_replies(self, reply: str) -> str:
        """What DATA is answered with (LMTP: one reply per recipient)."""
        return reply

    def say_goodbye(self) -> None:
        """Send 421 and close (the peer will retry what it did not get a 250 for)."""
        self._end(SHUTTING_DOWN, None)

    def _junk_allowed(self) -> bool:
        if self._over:
            return False
        self._junk += 1
        if self._junk > self._limits.junk_commands:
            self._end(TOO_MANY_JUNK_COMMANDS, "too many junk commands")
            return False
        return True

    def _moving_on(self) -> bool:
        if self._over:
            return False
        self._restart_clock()
        return True

    # One timer per session, moved on lazily: restarting the clock (four times a message)
    # only sets the deadline; the timer, when it fires early, waits again for the rest.
    def _restart_clock(self) -> None:
        loop = asyncio.get_running_loop()
        self._deadline = loop.time() + self._limits.timeout
        if self._clock is None and not self._over:
            self._clock = loop.call_at(self._deadline, self._check_clock)

    def _check_clock(self) -> None:
        self._clock = None
        if self._deadline == math.inf:  # paused: the next restart sets the timer again
            return
        loop = asyncio.get_running_loop()
        if loop.time() < self._deadline:
            self._clock = loop.call_at(self._deadline, self._check_clock)
        else:
            self._end(TIMED_OUT, "timeout")

    def _stop_clock(self) -> None:
        if self._clock is not None:
            self._clock.cancel()
            self._clock = None

    def _end(self, reply: str, why: str | None) -> None:
        """Send ``reply`` (a 421) and hang up; ``why`` names the limit, for the log line."""
        if self._over or self.transport is None:
            return
        self._over, self._why = True, why
        self._stop_clock()
        hang_up(self.transport, reply)
        if self._handler_coroutine is not None:  # as aiosmtpd's QUIT does: read no further
            self._handler_coroutine.cancel()


def tls_context(settings: Settings) -> ssl.SSLContext | None:
    if settings.tls_cert is None:
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(settings.tls_cert, settings.tls_key)
    return context
