"""Wake-up latency: 200 concurrent long-poll waiters, one per alias.

Each waiter holds GET /projects/bench/email/inbox?to=<alias>&wait=60; then one message
per alias is sent over SMTP. The latency is from the end of DATA (the moment the final
"." is written) to the waiter's response. Prints one JSON line; target p99 <= 50 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from pathlib import Path

import httpx

from serverproc import ADMIN, Agentid
from smtp_load import make_message, percentile


async def send_one(port: int, rcpt: str, index: int) -> float:
    """Send one message; returns the perf_counter time at the end of DATA."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)

    async def reply() -> bytes:
        while True:
            line = await reader.readline()
            if len(line) < 4 or line[3:4] != b"-":
                return line

    await reply()
    for command in (b"EHLO bench\r\n", b"MAIL FROM:<w@bench.example>\r\n"):
        writer.write(command)
        await reply()
    writer.write(f"RCPT TO:<{rcpt}>\r\n".encode())
    await reply()
    writer.write(b"DATA\r\n")
    await reply()
    writer.write(make_message(index, rcpt, 2048))
    end_of_data = time.perf_counter()
    writer.write(b".\r\n")
    assert (await reply()).startswith(b"250")
    writer.write(b"QUIT\r\n")
    writer.close()
    return end_of_data


async def run(server: Agentid, waiters: int) -> list[float]:
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
            r = await http.get("/projects/bench/email/inbox", params={"to": alias, "wait": 60})
            answered[alias] = time.perf_counter()
            assert r.json()["messages"], f"{alias} woke with nothing"

        tasks = [asyncio.create_task(wait(a)) for a in aliases]
        await asyncio.sleep(2)  # every waiter is holding its request
        ends: dict[str, float] = {}
        for i, alias in enumerate(aliases):
            ends[alias] = await send_one(server.smtp_port, alias, i)
        await asyncio.gather(*tasks)
    return [answered[a] - ends[a] for a in aliases]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--waiters", type=int, default=200)
    parser.add_argument("--env", nargs="*", default=[], help="AGENTID_X=value for the server")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        server = Agentid(Path(tmp) / "data", **dict(a.split("=", 1) for a in args.env))
        try:
            server.project("bench", "bench.test")
            latencies = asyncio.run(run(server, args.waiters))
        finally:
            server.stop()
    print(
        json.dumps(
            {
                "bench": "wait_latency",
                "waiters": args.waiters,
                "p50_ms": round(percentile(latencies, 0.5) * 1000, 2),
                "p99_ms": round(percentile(latencies, 0.99) * 1000, 2),
                "max_ms": round(max(latencies) * 1000, 2),
                "target_p99_ms": 50,
            }
        )
    )


if __name__ == "__main__":
    main()
