"""Sending throughput: how fast the outbox hands DKIM-signed mail to a local SMTP relay
sink (aiosmtpd in its own process), and how fast the API queues it.

``--messages`` sends are queued from ``--clients`` concurrent API clients while the relay
is down (each first attempt fails and is deferred, retried every 2 s at most). Then the
sink starts on the relay's port and the outbox drains: ``sent_per_s`` is messages over
the time from the sink's first arrival to its last. ``queued_per_s`` is the API's rate
(parsing, checks, composing and signing: DKIM signing happens once, at queue time).
Prints one JSON line; target >= 150 messages/s sent.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from serverproc import ADMIN
from serverproc import Agentid
from serverproc import free_port

TARGET = 150.0
SINK = """
import asyncio, json, sys, time
from aiosmtpd.smtp import SMTP
wanted, arrivals, done = int(sys.argv[2]), [], None

class Handler:
    async def handle_DATA(self, server, session, envelope):
        arrivals.append(time.perf_counter())
        if len(arrivals) >= wanted:
            done.set()
        return "250 2.0.0 Ok: queued as S%d" % len(arrivals)

async def serve():
    global done
    done = asyncio.Event()
    loop = asyncio.get_running_loop()
    port = int(sys.argv[1])
    await loop.create_server(lambda: SMTP(Handler(), hostname="sink"), "127.0.0.1", port)
    print("ready", flush=True)
    await done.wait()
    print(json.dumps({"first": arrivals[0], "last": arrivals[-1], "count": len(arrivals)}))

asyncio.run(serve())
"""


async def queue_all(url: str, messages: int, clients: int) -> float:
    """Queue ``messages`` sends; the seconds it took."""
    todo = list(range(messages))
    headers = {"Authorization": f"Bearer {ADMIN}"}

    async def client(http: httpx.AsyncClient) -> None:
        while todo:
            n = todo.pop()
            body = {
                "to": [f"user{n}@vendor.example"],
                "subject": f"Your order #{n} has shipped",
                "text": "Hello,\n\nyour order is on its way.\n\n" + "Details. " * 200,
                "html": "<p>Hello,</p><p>your order is on its way.</p>" + "<p>Details.</p>" * 100,
            }
            r = await http.post("/projects/bench/email/send", json=body)
            r.raise_for_status()

    start = time.perf_counter()
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=60) as http:
        await asyncio.gather(*(client(http) for _ in range(clients)))
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=16)
    args = parser.parse_args()
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        server = Agentid(
            Path(tmp) / "data",
            AGENTID_RELAY_URL=f"smtp://127.0.0.1:{port}",
            AGENTID_SEND_RATE_PER_MINUTE="1000000",
            AGENTID_WARMUP_START="1000000",
            AGENTID_WARMUP_MAX="1000000",
            AGENTID_SEND_RETRY_SECONDS="1",
            AGENTID_SEND_RETRY_MAX_SECONDS="2",
            AGENTID_SEND_MAX_ATTEMPTS="1000",
        )
        try:
            server.project("bench", "bench.test")
            queued = asyncio.run(queue_all(server.url, args.messages, args.clients))
            command = [sys.executable, "-c", SINK, str(port), str(args.messages)]
            sink = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
            assert sink.stdout is not None
            sink.stdout.readline()  # ready
            arrivals = json.loads(sink.stdout.readline())
            sink.wait(30)
        finally:
            server.stop()
    drained = arrivals["last"] - arrivals["first"]
    rate = (arrivals["count"] - 1) / drained if drained > 0 else float("inf")
    print(
        json.dumps(
            {
                "bench": "send",
                "messages": args.messages,
                "dkim": True,
                "queued_per_s": round(args.messages / queued, 1),
                "sent_per_s": round(rate, 1),
                "target_per_s": TARGET,
                "met": rate >= TARGET,
            }
        )
    )


if __name__ == "__main__":
    main()
