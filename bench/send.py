"""Sending throughput: messages queued over the API, DKIM-signed and handed by the outbox to
a local SMTP relay sink (aiosmtpd in its own process), end to end.

``--messages`` sends go out from ``--clients`` concurrent API clients; the clock runs from
the first request to the moment the outbox shows every message ``sent``. Also reported:
how fast the API queued them (signing happens there, once per message). Prints one JSON
line; target >= 150 messages/s with DKIM signing.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from pathlib import Path

import httpx

from serverproc import ADMIN, Agentid, Sink

TARGET = 150.0


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


def sent_count(server: Agentid) -> int:
    total, before = 0, None
    while True:
        params: dict[str, str | int] = {"limit": 500}
        if before:
            params["before"] = before
        page = server.http.get("/projects/bench/email/outbox", params=params).json()
        total += sum(m["status"] == "sent" for m in page["messages"])
        before = page["next"]
        if not before:
            return total


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=16)
    args = parser.parse_args()
    sink = Sink()
    with tempfile.TemporaryDirectory() as tmp:
        server = Agentid(
            Path(tmp) / "data",
            AGENTID_RELAY_URL=f"smtp://127.0.0.1:{sink.smtp_port}",
            AGENTID_SEND_RATE_PER_MINUTE="1000000",
            AGENTID_WARMUP_START="1000000",
            AGENTID_WARMUP_MAX="1000000",
        )
        try:
            server.project("bench", "bench.test")
            start = time.perf_counter()
            queued = asyncio.run(queue_all(server.url, args.messages, args.clients))
            while sent_count(server) < args.messages:
                time.sleep(0.05)
            total = time.perf_counter() - start
        finally:
            server.stop()
            sink.stop()
    rate = args.messages / total
    print(
        json.dumps(
            {
                "bench": "send",
                "messages": args.messages,
                "dkim": True,
                "queued_per_s": round(args.messages / queued, 1),
                "sent_per_s": round(rate, 1),
                "seconds": round(total, 2),
                "target_per_s": TARGET,
                "met": rate >= TARGET,
            }
        )
    )


if __name__ == "__main__":
    main()
