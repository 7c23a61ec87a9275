"""The one way agentid starts helper processes (spool writer, parse workers, migrations).

forkserver, not fork: the server has threads and an event loop that a forked child must
not inherit. Helpers are forked from a fork server that has imported their modules
(``PRELOAD``), so every helper shares those pages instead of importing its own copy.

``agentid serve`` makes that fork server by forking itself first thing
(``start_fork_server``, from ``agentid.__main__``), while it has one thread and has
imported little but ``PRELOAD``. The fork server then also shares with the server the
pages of the interpreter and of the modules both import (SQLAlchemy, the tables), and no
resource tracker runs: agentid's helpers make no semaphore or shared memory for one to
clean up, as with the fork start method. Anywhere else (a server started inside another
program, tests), and if that fork server dies, helpers come from multiprocessing's own
fork server: a fresh interpreter that imports ``PRELOAD``, with its resource tracker.
``_ForkServer.connect_to_new_process`` and ``_Popen._launch`` are multiprocessing's own
(Python 3.11 to 3.13), with this module's fork server in place of its singleton.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import io
import logging
import os
import socket
import threading
from collections.abc import Sequence
from multiprocessing import connection
from multiprocessing import forkserver
from multiprocessing import popen_forkserver
from multiprocessing import reduction
from multiprocessing import spawn
from multiprocessing import util
from multiprocessing.context import ForkServerContext
from multiprocessing.context import ForkServerProcess
from multiprocessing.context import set_spawning_popen
from multiprocessing.process import BaseProcess

from agentid.malloc import limit_malloc_arenas

log = logging.getLogger("agentid.processes")

PRELOAD = [
    "agentid.email.inbound.spool_writer",
    "agentid.email.inbound.parse_process",
    "agentid.email.inbound.digest",  # the parser and extractor, for the parse workers
    "agentid.email.inbound.preloaded",  # last: freezes what the others loaded
]


class _ForkServer(forkserver.ForkServer):
    """multiprocessing's fork server, or one forked from this process (``fork_now``)."""

    _forkserver_address: str | None
    _forkserver_alive_fd: int | None
    _forkserver_pid: int | None
    _lock: threading.Lock

    def __init__(self) -> None:
        super().__init__()
        self._forked_by: int | None = None  # the pid that forked the running fork server
        self._no_tracker: int | None = None  # what its helpers get as the tracker's pipe

    def fork_now(self) -> bool:
        """Import ``PRELOAD`` and fork the fork server from this process; False (nothing
        done) when another thread runs, or a fork server already does. With one thread,
        no lock: the fork server and its helpers must not inherit one held."""
        if self._forkserver_pid is not None or threading.active_count() > 1:
            return False
        for name in PRELOAD:
            importlib.import_module(name)
        address = connection.arbitrary_address("AF_UNIX")  # type: ignore[attr-defined]
        with socket.socket(socket.AF_UNIX) as listener:
            listener.bind(address)
            if not util.is_abstract_socket_namespace(address):
                os.chmod(address, 0o600)
            listener.listen()
            alive_r, alive_w = os.pipe()
            pid = os.fork()
            if pid == 0:  # the fork server: until every process holding alive_w is gone
                os.close(alive_w)
                try:
                    forkserver.main(listener.fileno(), alive_r, [])
                finally:
                    os._exit(0)
            os.close(alive_r)
        self._no_tracker = os.open(os.devnull, os.O_WRONLY)
        self._forkserver_address = address
        self._forkserver_alive_fd = alive_w
        self._forkserver_pid = pid
        self._forked_by = os.getpid()
        return True

    def _forked(self) -> bool:
        """Whether helpers come from the fork server forked by this process; if it died,
        multiprocessing's own takes over from now on."""
        with self._lock:
            if self._forked_by is None:
                return False
            if self._forked_by == os.getpid():
                assert self._forkserver_pid is not None
                with contextlib.suppress(ChildProcessError):  # reaped: gone all the same
                    if os.waitpid(self._forkserver_pid, os.WNOHANG)[0] == 0:
                        return True
                assert self._forkserver_alive_fd is not None
                os.close(self._forkserver_alive_fd)
            # else: a helper, whose parent forked it; its own helpers come from elsewhere
            self._forkserver_address = self._forkserver_alive_fd = None
            self._forkserver_pid = self._forked_by = None
            return False

    def ensure_running(self) -> None:
        if not self._forked():
            super().ensure_running()

    def connect_to_new_process(self, fds: Sequence[int]) -> tuple[int, int]:
        """multiprocessing's request for a new helper, without a resource tracker when the
        fork server is the one forked here: the helper's tracker pipe goes to /dev/null."""
        if not self._forked():
            return super().connect_to_new_process(fds)
        assert self._forkserver_address is not None and self._forkserver_alive_fd is not None
        assert self._no_tracker is not None
        if len(fds) + 4 >= forkserver.MAXFDS_TO_SEND:
            raise ValueError("too many fds")
        with socket.socket(socket.AF_UNIX) as client:
            client.connect(self._forkserver_address)
            parent_r, child_w = os.pipe()
            child_r, parent_w = os.pipe()
            sent = [child_r, child_w, self._forkserver_alive_fd, self._no_tracker, *fds]
            try:
                reduction.sendfds(client, sent)
                return parent_r, parent_w
            except BaseException:
                os.close(parent_r)
                os.close(parent_w)
                raise
            finally:
                os.close(child_r)
                os.close(child_w)


_SERVER = _ForkServer()
_SERVER.set_forkserver_preload(PRELOAD)


class _Popen(popen_forkserver.Popen):
    """multiprocessing's fork-server ``Popen``, asking agentid's ``_SERVER``."""

    _fds: list[int]

    def _launch(self, process_obj: BaseProcess) -> None:
        prep_data = spawn.get_preparation_data(process_obj.name)
        buf = io.BytesIO()
        set_spawning_popen(self)
        try:
            reduction.dump(prep_data, buf)
            reduction.dump(process_obj, buf)
        finally:
            set_spawning_popen(None)
        self.sentinel, w = _SERVER.connect_to_new_process(self._fds)
        # a duplicate of the data pipe's write end: the helper's sentinel of this process
        parent_w = os.dup(w)
        self.finalizer = util.Finalize(self, _close, (parent_w, self.sentinel))
        with open(w, "wb", closefd=True) as f:
            f.write(buf.getbuffer())
        self.pid = forkserver.read_signed(self.sentinel)


def _close(*fds: int) -> None:
    for fd in fds:
        os.close(fd)


class _Process(ForkServerProcess):
    @staticmethod
    def _Popen(process_obj: BaseProcess) -> popen_forkserver.Popen:
        return _Popen(process_obj)


class _Context(ForkServerContext):
    Process = _Process


_CONTEXT = _Context()


def context() -> ForkServerContext:
    return _CONTEXT


def start_fork_server() -> bool:
    """For ``agentid serve``, first thing: fork the fork server from this process (after
    fixing malloc's settings, which the fork server and the helpers keep). It must run
    while this process has one thread; False when it did not (helpers then come from
    multiprocessing's fork server)."""
    limit_malloc_arenas()
    return _SERVER.fork_now()


async def reap(process: BaseProcess, grace: float) -> int | None:
    """Let ``process`` end by itself for up to ``grace`` seconds (none: at once), then
    kill it; its exit code once it is gone. The process object is closed then: its
    sentinel pipe was otherwise held until the object was collected, and the server keeps
    its helpers' objects (two pipes a start and stop, each restart of a helper one more)."""
    if grace:
        await asyncio.to_thread(process.join, grace)
    if process.is_alive():
        if grace:  # one that ends on its own as told did not: a stop this slow says why
            log.warning("helper did not end in time: killed", extra={"helper": process.name})
        process.kill()
        await asyncio.to_thread(process.join, 10)
    return closed(process)


def closed(process: BaseProcess) -> int | None:
    """The exit code of a ``process`` joined already, its object closed (its descriptors
    released); None, and left open, while it still runs."""
    code = process.exitcode
    if code is not None:
        process.close()
    return code
