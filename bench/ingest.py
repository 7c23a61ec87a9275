"""Ingest throughput: agentid against Postfix and a bare aiosmtpd sink, same generator.

Postfix's ``smtp-source -d -s 20 -l 10240 -m 5000`` (5,000 x 10 KB messages over 20
sessions) is run, in one go, against:

- a private Postfix instance built from ``bench/postfix/`` (own directories, loopback port,
  delivery into a Maildir): *delivered* rate = messages / time from the start until all
  of them are files in the Maildir's ``new/``;
- agentid on a fresh store: *accepted* rate = messages / time until smtp-source is done
  (every 250 is sent after a durable commit), *visible* rate = messages / time until the
  inbox API lists all of them, and the *catch-up* = seconds from smtp-source's exit (the
  last 250) until the inbox shows all of them;
- a bare aiosmtpd ``Sink`` (accepted rate).

Postfix's own rate varies most from run to run (it fsyncs every queue file: 530-1,100
msg/s on this machine, faster after the disk has been idle), so the pair is run
``--rounds`` times (default 3), Postfix then agentid each time, and the medians are
reported: the ratio is the median of the rounds' ratios (each round's pair saw the same
machine), and every round is listed.

Targets: visible >= 1.3x Postfix delivered, catch-up <= 2 s. Also kept: our Python
generator against agentid and the sink (it also times each DATA-to-reply), the ratio to
the sink (>= 0.7) and RSS (idle < 150 MB). Prints one JSON line. Needs root and the
``postfix`` package (``make bench-tools``) for the Postfix half; without them that half is
reported as null. ``--messages 100000`` also shows RSS staying flat under sustained load.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from serverproc import POSTFIX_PATH
from serverproc import Agentid
from serverproc import Postfix
from serverproc import Sink
from serverproc import peak_rss_mb
from serverproc import postfix_missing
from serverproc import rss_mb
from smtp_load import percentile
from smtp_load import run_load

RCPTS = [f"user{i}@bench.test" for i in range(50)]
SENDER = "load@bench.example"
TIMEOUT = 900.0  # seconds for one smtp-source run plus its catch-up
TARGET_RATIO_TO_POSTFIX = 1.3
TARGET_CATCH_UP_S = 2.0
TARGET_RATIO_TO_SINK = 0.7
TARGET_IDLE_RSS_MB = 150.0


@dataclass
class Run:
    """One smtp-source run, in seconds from its start."""

    messages: int
    accepted_s: float  # smtp-source exited: every message got its 250
    complete_s: float  # the receiver showed all of them (Maildir files, inbox entries)

    @property
    def accepted_rate(self) -> float:
        return self.messages / self.accepted_s

    @property
    def complete_rate(self) -> float:
        return self.messages / self.complete_s

    @property
    def catch_up_s(self) -> float:
        return max(0.0, self.complete_s - self.accepted_s)


def smtp_source_tool() -> str | None:
    return shutil.which("smtp-source", path=POSTFIX_PATH)


def smtp_source(
    port: int,
    args: argparse.Namespace,
    complete: Callable[[bool], float | None] | None = None,
    interval: float = 0.02,
) -> Run:
    """Run smtp-source against ``port``.

    ``complete(exited)`` is polled until it returns the time (``perf_counter``) at which
    the receiver showed every message; without it, that is when smtp-source exits.
    """
    tool = smtp_source_tool()
    assert tool is not None
    cmd = [tool, "-d", "-s", str(args.sessions), "-l", str(args.size), "-m", str(args.messages)]
    cmd += ["-f", SENDER, "-t", RCPTS[0], f"127.0.0.1:{port}"]
    exited: list[float] = []
    errors: list[str] = []
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)

    def reap() -> None:
        errors.append(proc.communicate()[1])
        exited.append(time.perf_counter())

    reaper = threading.Thread(target=reap, daemon=True)
    reaper.start()
    try:
        while True:
            done = bool(exited)
            if done and proc.returncode != 0:
                raise RuntimeError(f"smtp-source failed ({proc.returncode}): {errors[0].strip()}")
            finished = complete(done) if complete else (exited[0] if done else None)
            if finished is not None:
                break
            if time.perf_counter() - started > TIMEOUT:
                raise RuntimeError(f"not complete after {TIMEOUT:.0f} s")
            time.sleep(interval)
        reaper.join(TIMEOUT)
    finally:
        if proc.poll() is None:
            proc.kill()
            reaper.join(10)
    if proc.returncode != 0:
        raise RuntimeError(f"smtp-source failed ({proc.returncode}): {errors[0].strip()}")
    return Run(args.messages, exited[0] - started, finished - started)


class InboxWatch:
    """When the inbox API lists ``expected`` messages, found without walking it every time.

    A thread follows the project's event stream (``GET /projects/{id}/events``): the
    server publishes ``message.received`` once a message is committed as digested, i.e.
    once the inbox lists it, so the time the ``expected``-th distinct message is announced
    is when the inbox shows them all. The inbox itself is then walked once to confirm. If
    the count stalls, walks decide instead.
    """

    STALL_S = 0.5

    def __init__(self, server: Agentid, project_id: str, expected: int) -> None:
        self.http = server.http
        self.path = f"/projects/{project_id}"
        self.expected = expected
        self.walks = 0
        self._walked = 0.0  # perf_counter at the end of the last walk
        self._arrivals: list[float] = []  # perf_counter of each distinct announced id
        self._ids: set[str] = set()
        self._lock = threading.Lock()
        self._connected = threading.Event()
        self._stream = httpx.Client(
            base_url=server.url,
            headers=dict(server.http.headers),
            timeout=httpx.Timeout(10, read=None),
        )
        self._thread = threading.Thread(target=self._follow, daemon=True)
        self._thread.start()
        if not self._connected.wait(10):
            raise RuntimeError("the event stream did not connect")

    def _follow(self) -> None:
        kind = ""
        try:
            with self._stream.stream("GET", f"{self.path}/events") as response:
                response.raise_for_status()
                for line in response.iter_lines():
                    if line.startswith(": connected"):
                        self._connected.set()
                    elif line.startswith("event:"):
                        kind = line.partition(":")[2].strip()
                    elif line.startswith("data:") and kind == "message.received":
                        message_id = json.loads(line.partition(":")[2])["id"]
                        now = time.perf_counter()
                        with self._lock:
                            if message_id not in self._ids:
                                self._ids.add(message_id)
                                self._arrivals.append(now)
        except (httpx.HTTPError, RuntimeError, ValueError, KeyError):
            pass  # closed by stop(), the server went away or spoke otherwise: walks decide

    def walk(self) -> int:
        """How many messages the inbox lists (every page)."""
        self.walks += 1
        total, before = 0, None
        while True:
            params: dict[str, str | int] = {"limit": 500}
            if before:
                params["before"] = before
            response = self.http.get(f"{self.path}/email/inbox", params=params)
            response.raise_for_status()
            page = response.json()
            total += len(page["messages"])
            before = page["next"]
            if not before:
                self._walked = time.perf_counter()
                return total

    def complete(self, source_exited: bool) -> float | None:
        """When the inbox came to list all ``expected`` messages, or None if it does not yet."""
        if self.expected <= 0:
            return time.perf_counter()
        with self._lock:
            announced = len(self._arrivals)
            at = self._arrivals[self.expected - 1] if announced >= self.expected else None
            last = self._arrivals[-1] if self._arrivals else 0.0
        if at is not None and self.walk() >= self.expected:
            return at
        quiet = time.perf_counter() - max(last, self._walked) > self.STALL_S
        if source_exited and quiet and self.walk() >= self.expected:
            return time.perf_counter()
        return None

    def stop(self) -> None:
        self._stream.close()
        self._thread.join(5)


def python_load(port: int, args: argparse.Namespace) -> dict[str, float]:
    result, seconds = asyncio.run(
        run_load("127.0.0.1", port, RCPTS, args.messages, args.sessions, args.size)
    )
    return {
        "accepted": result.accepted,
        "rate": result.accepted / seconds,
        "p50_ms": percentile(result.latencies, 0.5) * 1000,
        "p99_ms": percentile(result.latencies, 0.99) * 1000,
    }


def measure_postfix(args: argparse.Namespace) -> dict[str, Any] | str:
    """The Postfix run, or why it could not be made."""
    missing = postfix_missing() or (None if smtp_source_tool() else "smtp-source not installed")
    if missing:
        return missing
    with tempfile.TemporaryDirectory(prefix="bench-postfix-") as tmp:
        postfix = Postfix(Path(tmp))

        def delivered(_: bool) -> float | None:
            now = time.perf_counter()
            return now if postfix.delivered() >= args.messages else None

        try:
            run = smtp_source(postfix.smtp_port, args, delivered)
            return {"run": run, "delivered": postfix.delivered()}
        except Exception:
            print(postfix.log_tail(), file=sys.stderr)
            raise
        finally:
            postfix.stop()


def measure_agentid(args: argparse.Namespace, python: bool = True) -> dict[str, Any]:
    """One agentid run: smtp-source, then (``python``) our Python generator too."""
    with tempfile.TemporaryDirectory(prefix="bench-agentid-") as tmp:
        env = {"AGENTID_DATABASE_URL": args.database_url} if args.database_url else {}
        server = Agentid(Path(tmp) / "data", **env)
        watch = None
        try:
            server.project("bench", "bench.test")
            idle = rss_mb(server.proc.pid)
            watch = InboxWatch(server, "bench", 0)
            run = None
            if smtp_source_tool():
                watch.expected = args.messages
                run = smtp_source(server.smtp_port, args, watch.complete, interval=0.05)
            rss_after_first = rss_mb(server.proc.pid)
            py = python_load(server.smtp_port, args) if python else {"accepted": 0}
            last_reply = time.perf_counter()
            watch.expected += int(py["accepted"])
            while (visible_at := watch.complete(True)) is None:
                if time.perf_counter() - last_reply > TIMEOUT:
                    raise RuntimeError(f"inbox incomplete after {TIMEOUT:.0f} s")
                time.sleep(0.05)
            py["visible_all_after_s"] = max(0.0, visible_at - last_reply)
            return {
                "run": run,
                "py": py,
                "inbox_walks": watch.walks,
                "idle_rss": idle,
                "rss_after_first": rss_after_first,
                "rss_end": rss_mb(server.proc.pid),
                "peak_rss": peak_rss_mb(server.proc.pid),
            }
        finally:
            server.stop()
            if watch is not None:
                watch.stop()


def measure_sink(args: argparse.Namespace) -> dict[str, Any]:
    sink = Sink()
    try:
        run = smtp_source(sink.smtp_port, args) if smtp_source_tool() else None
        return {"run": run, "py": python_load(sink.smtp_port, args)}
    finally:
        sink.stop()


def median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def rounded(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(value, digits)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--size", type=int, default=10240)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--rounds", type=int, default=3, help="Postfix-then-agentid pairs")
    args = parser.parse_args()

    # Postfix and agentid back to back, so both see the same machine; the last round also
    # runs our Python generator
    rounds = []
    for n in range(args.rounds):
        postfix = measure_postfix(args)
        ours = measure_agentid(args, python=n == args.rounds - 1)
        rounds.append((None if isinstance(postfix, str) else postfix["run"], ours["run"]))
    sink = measure_sink(args)

    runs: list[Run] = [r for _, r in rounds if r is not None]
    pf_runs: list[Run] = [p for p, _ in rounds if p is not None]
    accepted = median([r.accepted_rate for r in runs])
    visible = median([r.complete_rate for r in runs])
    catch_up = median([r.catch_up_s for r in runs])
    delivered = median([p.complete_rate for p in pf_runs])
    ratio = median([r.complete_rate / p.complete_rate for p, r in rounds if p and r])
    run = runs[-1] if runs else None
    sink_rate = sink["run"].accepted_rate if sink["run"] else None
    ratio_to_sink = accepted / sink_rate if accepted and sink_rate else None
    if isinstance(postfix, str):
        print(f"ingest: no Postfix comparison: {postfix}", file=sys.stderr)
    print(
        json.dumps(
            {
                "bench": "ingest",
                "generator": (
                    f"smtp-source -d -s {args.sessions} -l {args.size} -m {args.messages}"
                    if run
                    else None
                ),
                "messages": args.messages,
                "sessions": args.sessions,
                "size": args.size,
                "accepted_msg_per_s": rounded(accepted),
                "visible_msg_per_s": rounded(visible),
                "catch_up_s": rounded(catch_up, 2),
                "postfix_delivered_msg_per_s": rounded(delivered),
                "ratio_visible_to_postfix": rounded(ratio, 3),
                "targets": {
                    "ratio_visible_to_postfix": TARGET_RATIO_TO_POSTFIX,
                    "catch_up_s": TARGET_CATCH_UP_S,
                    "ratio_to_sink": TARGET_RATIO_TO_SINK,
                    "idle_rss_mb": TARGET_IDLE_RSS_MB,
                },
                "met": {
                    "ratio_visible_to_postfix": (
                        None if ratio is None else ratio >= TARGET_RATIO_TO_POSTFIX
                    ),
                    "catch_up_s": None if catch_up is None else catch_up <= TARGET_CATCH_UP_S,
                    "ratio_to_sink": (
                        None if ratio_to_sink is None else ratio_to_sink >= TARGET_RATIO_TO_SINK
                    ),
                    "idle_rss_mb": ours["idle_rss"] < TARGET_IDLE_RSS_MB,
                },
                "rounds": [
                    {
                        "visible_msg_per_s": rounded(r.complete_rate) if r else None,
                        "catch_up_s": rounded(r.catch_up_s, 2) if r else None,
                        "postfix_delivered_msg_per_s": rounded(p.complete_rate) if p else None,
                        "ratio": rounded(r.complete_rate / p.complete_rate, 3) if p and r else None,
                    }
                    for p, r in rounds
                ],
                "postfix": (
                    {"skipped": postfix}
                    if isinstance(postfix, str)
                    else {
                        "accepted_msg_per_s": rounded(median([p.accepted_rate for p in pf_runs])),
                        "delivered_msg_per_s": rounded(delivered),
                        "delivered_after_last_250_s": rounded(
                            median([p.catch_up_s for p in pf_runs]), 2
                        ),
                    }
                ),
                "sink_accepted_msg_per_s": rounded(sink_rate),
                "ratio_to_sink": rounded(ratio_to_sink, 3),
                "inbox_walks": ours["inbox_walks"],
                "python_generator": {
                    "messages_per_s": round(ours["py"]["rate"], 1),
                    "sink_messages_per_s": round(sink["py"]["rate"], 1),
                    "ratio_to_sink": round(ours["py"]["rate"] / sink["py"]["rate"], 3),
                    "p50_accept_ms": round(ours["py"]["p50_ms"], 2),
                    "p99_accept_ms": round(ours["py"]["p99_ms"], 2),
                    "visible_all_after_s": round(ours["py"]["visible_all_after_s"], 2),
                },
                "idle_rss_mb": round(ours["idle_rss"], 1),
                "rss_after_first_load_mb": round(ours["rss_after_first"], 1),
                "rss_end_mb": round(ours["rss_end"], 1),
                "peak_rss_mb": round(ours["peak_rss"], 1),
            }
        )
    )


if __name__ == "__main__":
    main()
