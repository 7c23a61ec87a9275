"""Where a message goes while it is received: memory, then past a threshold a private file.

Many large messages at once must not hold many copies in memory. The first
``memory_bytes`` of a message stay in memory (most mail is far smaller); past that the
message goes to a file ``incoming-*.eml`` in the data dir (0600, like every file there),
written in blocks of ``WRITE_BYTES`` from a worker thread, so neither a slow disk nor
writeback blocks the event loop. The spool writer reads the file itself; the file is
removed once its message is committed or has failed, when the message is refused or too
big, and on start (what a crash left behind).

Ownership moves once: the SMTP session owns the file until the spool takes it (``take``),
then the spool does. ``release`` (the session's, always called) removes it only if the
spool never took it; ``discard`` (the spool's) removes it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO
from typing import Any

from agentid.email.inbound.line_endings import LineEndingFixer
from agentid.email.inbound.line_endings import LineEndings

PREFIX, SUFFIX = "incoming-", ".eml"
WRITE_BYTES = 256 * 1024  # gathered in memory before each write to the file
_CONTENT = "agentid_content"


class Spooled:
    """A received message kept in a file (its bytes exactly as the spool stores them)."""

    __slots__ = ("_holders", "_taken", "path", "size")

    def __init__(self, path: Path, size: int) -> None:
        self.path = path
        self.size = size
        self._taken = False
        self._holders = 0  # arrivals the spool holds it for (LMTP: one per project)

    def take(self) -> None:
        """The spool holds the message now (once more): only ``discard`` removes the file,
        once every holder let it go."""
        self._taken = True
        self._holders += 1

    def release(self) -> None:
        """The session is done with it: removed unless the spool took it."""
        if not self._taken:
            self.discard()

    def discard(self) -> None:
        self._holders = max(0, self._holders - 1)
        if self._holders:
            return
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()

    def head(self, size: int) -> bytes:
        """The first ``size`` bytes (blocking: call it from a thread)."""
        with self.path.open("rb") as file:
            return file.read(size)


@dataclass(frozen=True, slots=True)
class Content:
    """A message as received: ``data`` in memory, or ``spooled`` in a file."""

    size: int
    data: bytes | None
    spooled: Spooled | None
    nul: bool = False  # it holds a NUL
    bare_line_ending: bool = False  # it holds a CR without LF or an LF without CR

    @property
    def raw(self) -> bytes | Spooled:
        if self.spooled is not None:
            return self.spooled
        assert self.data is not None
        return self.data

    def release(self) -> None:
        if self.spooled is not None:
            self.spooled.release()

    async def head(self, size: int) -> bytes:
        """The message's first ``size`` bytes (its header, for a look at the top)."""
        if self.spooled is not None:
            return await asyncio.to_thread(self.spooled.head, size)
        assert self.data is not None
        return self.data[:size]

    def __enter__(self) -> Content:
        return self

    def __exit__(self, *_: object) -> None:
        self.release()


class Incoming:
    """Where DATA goes: ``directory`` (None: memory only), past ``memory_bytes``. With
    ``normalize``, bare CR and LF become CRLF and NULs go on the way in."""

    def __init__(self, directory: Path | None, memory_bytes: int, *, normalize: bool) -> None:
        self.directory = directory
        self.memory_bytes = memory_bytes
        self.normalize = normalize

    def receiving(self) -> Receiving:
        return Receiving(self)

    async def of_bytes(self, data: bytes) -> Content:
        """``data`` received whole (what an SMTP session other than ours hands over)."""
        receiving = self.receiving()
        try:
            await receiving.write(data)
            return await receiving.finish()
        except BaseException:
            receiving.abandon()
            raise


IN_MEMORY = Incoming(None, 0, normalize=False)


class Receiving:
    """One message on its way in: pieces are written as they come, then ``finish``."""

    def __init__(self, incoming: Incoming) -> None:
        self._incoming = incoming
        self._fixer = LineEndingFixer() if incoming.normalize else None
        self._lines = LineEndings()
        self._pieces: list[bytes] = []
        self._held = 0  # bytes in _pieces
        self._file: IO[bytes] | None = None
        self._path: Path | None = None
        self.size = 0

    async def write(self, piece: bytes) -> None:
        if self._fixer is not None:
            piece = self._fixer.feed(piece)
        await self._add(piece)

    async def finish(self) -> Content:
        """The whole message; the file (if any) is written and closed, not synced: it only
        has to last until the spool writer's durable commit."""
        if self._fixer is not None:
            await self._add(self._fixer.flush())
        nul, bare = self._lines.nul, self._lines.bare
        if self._file is None:
            data, self._pieces = b"".join(self._pieces), []
            return Content(self.size, data, None, nul, bare)
        file, pieces, self._pieces = self._file, self._pieces, []
        await asyncio.to_thread(_write_and_close, file, pieces)
        self._file = None
        assert self._path is not None
        return Content(self.size, None, Spooled(self._path, self.size), nul, bare)

    def abandon(self) -> None:
        """Drop the message: its memory, and its file if it has one."""
        self._pieces, self._held = [], 0
        if self._file is not None:
            with contextlib.suppress(OSError):
                self._file.close()
            self._file = None
        if self._path is not None:
            with contextlib.suppress(FileNotFoundError):
                self._path.unlink()
            self._path = None

    async def _add(self, piece: bytes) -> None:
        if not piece:
            return
        self._lines.feed(piece)
        self._pieces.append(piece)
        self._held += len(piece)
        self.size += len(piece)
        if self._file is not None:
            if self._held < WRITE_BYTES:
                return
            file = self._file
        else:
            directory = self._incoming.directory
            if directory is None or self.size <= self._incoming.memory_bytes:
                return
            file, self._path = await asyncio.to_thread(_create, directory)
            self._file = file
        pieces, self._pieces, self._held = self._pieces, [], 0
        await asyncio.to_thread(file.writelines, pieces)


def _create(directory: Path) -> tuple[IO[bytes], Path]:
    """A new file only this user can read (mkstemp: O_EXCL, mode 0600)."""
    fd, name = tempfile.mkstemp(prefix=PREFIX, suffix=SUFFIX, dir=directory)
    os.fchmod(fd, 0o600)
    return os.fdopen(fd, "wb"), Path(name)


def _write_and_close(file: IO[bytes], pieces: list[bytes]) -> None:
    try:
        file.writelines(pieces)
    finally:
        file.close()


def clear_leftovers(directory: Path) -> int:
    """Remove the files of messages a stopped server was receiving; how many there were."""
    count = 0
    for path in directory.glob(f"{PREFIX}*{SUFFIX}"):
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
            count += 1
    return count


def attach(envelope: Any, content: Content) -> None:
    """Hand ``content`` to the DATA handler (with the bytes where aiosmtpd keeps them,
    when they are in memory)."""
    setattr(envelope, _CONTENT, content)
    envelope.content = envelope.original_content = content.data


def attached(envelope: Any) -> Content | None:
    content = getattr(envelope, _CONTENT, None)
    return content if isinstance(content, Content) else None


def incoming_of(handler: Any) -> Incoming:
    """Where a session's DATA goes: the handler's ``incoming``, else memory."""
    incoming = getattr(handler, "incoming", None)
    return incoming if isinstance(incoming, Incoming) else IN_MEMORY
