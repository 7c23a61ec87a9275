"""Wake-up latency: 200 concurrent long-poll waiters, one per alias.

Each waiter holds GET /projects/bench/email/inbox?to=<alias>&wait=60; then one message
per alias is sent over SMTP. The latency is from the sender's 250 to the waiter's
response. Measured twice: on a quiet service, and while Postfix's smtp-source floods
another alias of the same project (``-d -s 10 -l 10240 -m 6000``). Prints one JSON line;
targets p99 <= 30 ms quiet, <= 250 ms under the flood.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

import httpx

from serverproc import ADMIN
from serverproc import Agentid
from smtp_load import hand_over
from smtp_load import make_message
from smtp_load import percentile


async def send_one(port: int, rcpt: str, index: int) -> float:
    """Send one message; returns the perf_counter time at the end of DATA."""
    return await hand_over(port, b"EHLO", rcpt, make_message(index, rcpt, 2048))


async def long_poll(port: int, path: str) -> tuple[float, bytes]:
    """GET ``path`` on a connection of its own; the perf_counter time the whole response
    had arrived, and its body. Plain HTTP/1.1 over a socket, as ``send_one`` speaks SMTP:
    what is timed is the service, not an HTTP client's connection pool shared by 200
    requests."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {ADMIN}\r\n"
        "Connection: close\r\n\r\n".encode()
    )
    head = await reader.readuntil(b"\r\n\r\n")
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    body = await reader.readexactly(length)
    arrived = time.perf_counter()
    writer.close()
    assert head.startswith(b"HTTP/1.1 200"), head
    return arrived, body


def smtp_source_tool() -> str | None:
    path = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin"])
    return shutil.which("smtp-source", path=path)


def flood(port: int, rcpt: str) -> subprocess.Popen[bytes] | None:
    """Postfix's smtp-source at another alias, in the background (None: not installed)."""
    tool = smtp_source_tool()
    if tool is None:
        return None
    cmd = [tool, "-d", "-s", "10", "-l", "10240", "-m", "6000", "-f", "flood@bench.example"]
    return subprocess.Popen([*cmd, "-t", rcpt, f"127.0.0.1:{port}"], stdout=subprocess.DEVNULL)


async def run(server: Agentid, waiters: int, flooded: bool = False) -> list[float] | None:
    aliases = []
    async with httpx.AsyncClient(
        base_url=server.url,
        headers={"Authorization": f"Bearer {ADMIN}"},
        timeout=90,
        limits=httpx.Limits(max_connections=waiters + 10),
    ) as http:
        for _ in range(waiters):
            r = await http.post("/projects/bench/email/aliases", json={"label": "w"})
            aliases.append(r.json()["address"])
        answered: dict[str, float] = {}

        async def wait(alias: str) -> None:
            query = urlencode({"to": alias, "wait": 60})
            answered[alias], body = await long_poll(
                server.http_port, f"/projects/bench/email/inbox?{query}"
            )
            assert json.loads(body)["messages"], f"{alias} woke with nothing"

        tasks = [asyncio.create_task(wait(a)) for a in aliases]
        await asyncio.sleep(2)  # every waiter is holding its request
        flooding = None
        if flooded:
            r = await http.post("/projects/bench/email/aliases", json={"label": "flood"})
            flooding = flood(server.smtp_port, r.json()["address"])
            if flooding is None:
                for task in tasks:
                    task.cancel()
                return None
            await asyncio.sleep(1)  # the flood is under way
        ends: dict[str, float] = {}
        during: list[str] = []  # aliases whose message went in while the flood ran
        for i, alias in enumerate(aliases):
            ends[alias] = await send_one(server.smtp_port, alias, i)
            if flooding is not None and flooding.poll() is None:
                during.append(alias)
        await asyncio.gather(*tasks)
        if flooding is not None:
            flooding.kill()
            flooding.wait()
            assert len(during) >= waiters // 2, f"only {len(during)} sent during the flood"
            aliases = during
    return [answered[a] - ends[a] for a in aliases]


def summary(latencies: list[float] | None) -> dict[str, float] | None:
    if latencies is None:
        return None
    return {
        "p50_ms": round(percentile(latencies, 0.5) * 1000, 2),
        "p99_ms": round(percentile(latencies, 0.99) * 1000, 2),
        "max_ms": round(max(latencies) * 1000, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--waiters", type=int, default=200)
    parser.add_argument("--env", nargs="*", default=[], help="AGENTID_X=value for the server")
    args = parser.parse_args()
    results = {}
    for flooded in (False, True):
        with tempfile.TemporaryDirectory() as tmp:
            server = Agentid(Path(tmp) / "data", **dict(a.split("=", 1) for a in args.env))
            try:
                server.project("bench", "bench.test")
                results[flooded] = summary(asyncio.run(run(server, args.waiters, flooded)))
            finally:
                server.stop()
    quiet, flood_ = results[False], results[True]
    print(
        json.dumps(
            {
                "bench": "wait_latency",
                "waiters": args.waiters,
                "quiet": quiet,
                "flooded": flood_ if flood_ is not None else "smtp-source not installed",
                "targets": {"quiet_p99_ms": 30, "flooded_p99_ms": 250},
                "met": quiet is not None
                and quiet["p99_ms"] <= 30
                and flood_ is not None
                and flood_["p99_ms"] <= 250,
            }
        )
    )


if __name__ == "__main__":
    main()
