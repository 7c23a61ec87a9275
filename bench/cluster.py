"""Postfix in front of 1 and then 2 agentid processes on one PostgreSQL, over LMTP.

For each process count, on a fresh PostgreSQL schema, with the Postfix configuration the
tests run (deploy/postfix/, started by ``tests/email/inbound/postfix.EdgeMTA``):

- ``smtp-source -d -s 20 -l 4096 -m N`` into Postfix: *accepted* rate = N / time until
  smtp-source is done (Postfix has queued them), *stored* rate = N / time until every
  message is committed in agentid's store (LMTP replies sent), *visible* rate = N / time
  until the inbox API of the last process lists them all (parsed);
- where the time went: CPU seconds of Postfix's processes and of each agentid process
  tree (server, spool writer, parse worker) over the run, and the wall time;
- cross-process wake-up: ``--waits`` long-polls, each on its own alias, held on the last
  process while one message per alias is handed by LMTP to the first one: the time from
  its LMTP 250 to the long-poll's answer, p50 and p99 (with one process, the same process);
  split where the bus's NOTIFY for it reaches a listener of the bench's own on the
  processes' channel: ``notify_ms`` (LMTP 250 -> digested, published, NOTIFY delivered)
  and ``after_notify_ms`` (-> the long-poll's answer: the other process hears it, asks the
  store, answers), with the slowest wake-ups split the same way.

Prints one JSON line. Needs root, Debian's postfix (``make bench-tools``), smtp-source and
PostgreSQL (``BENCH_POSTGRES_URL``, default the test server's).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import asyncpg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/ for the Postfix runner

from tests.email.inbound.postfix import EdgeMTA

from agentid.email.inbound.postfix import Setup
from agentid.events import Kind
from agentid.store.notices import channel_for
from agentid.store.notices import decode
from serverproc import Agentid
from serverproc import free_port
from smtp_load import hand_over
from smtp_load import percentile
from wait_latency import long_poll

PG_URL = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
DOMAIN = "cluster.test"
DOMAINS = ("spread-a.test", "spread-b.test")  # the burst's two halves
CLK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU of ``pid`` and every descendant still alive, in seconds."""
    total, todo = 0.0, [pid]
    while todo:
        current = todo.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / CLK
            for task in Path(f"/proc/{current}/task").iterdir():
                todo.extend(int(c) for c in (task / "children").read_text().split())
        except (OSError, ValueError):
            continue
    return total


def postfix_cpu(mta: EdgeMTA) -> float:
    pid = int((mta.root / "queue" / "pid" / "master.pid").read_text().split()[0])
    return cpu_seconds(pid)


async def stored_count(conn: asyncpg.Connection, schema: str) -> int:
    found = await conn.fetchval(
        f'SELECT count(*) FROM "{schema}".messages WHERE project_id LIKE $1', "spread%"
    )
    return int(found)


async def lmtp_one(port: int, rcpt: str, index: int) -> float:
    """Hand one message to agentid over LMTP; the perf_counter time of its 250."""
    body = f"From: w@bench.example\r\nTo: {rcpt}\r\nSubject: wake {index}\r\n\r\nhello\r\n"
    return await hand_over(port, b"LHLO", rcpt, body.encode())


class Bystander:
    """A LISTEN of the bench's own on the processes' channel: when each address's
    ``message.received`` NOTIFY arrived (perf_counter)."""

    def __init__(self) -> None:
        self.heard: dict[str, float] = {}

    def __call__(self, _conn: object, _pid: int, _channel: str, payload: str) -> None:
        decoded = decode(payload)
        if decoded is not None and decoded[1].kind is Kind.MESSAGE_RECEIVED:
            for key in decoded[1].keys:
                self.heard.setdefault(key, time.perf_counter())


async def wake_latencies(
    last: Agentid, lmtp_port: int, count: int, schema: str
) -> list[tuple[float, float]]:
    """(LMTP 250 -> answer, LMTP 250 -> NOTIFY heard) per wake-up, in milliseconds."""
    bystander = Bystander()
    conn = await asyncpg.connect(PG_URL)
    await conn.add_listener(channel_for(schema), bystander)
    latencies = []
    try:
        for i in range(count):
            rcpt = f"wake{i}@{DOMAIN}"
            path = f"/projects/cluster/email/inbox?to={rcpt}&wait=30"
            waiter = asyncio.create_task(long_poll(last.http_port, path))
            await asyncio.sleep(0.02)  # the long-poll looked once and waits
            accepted = await lmtp_one(lmtp_port, rcpt, i)
            arrived, _ = await waiter
            for _ in range(100):  # the bench's own NOTIFY may come a moment after
                if rcpt in bystander.heard:
                    break
                await asyncio.sleep(0.01)
            heard = bystander.heard.get(rcpt, float("nan"))
            latencies.append(((arrived - accepted) * 1000, (heard - accepted) * 1000))
    finally:
        await conn.close()
    return latencies


def spread(values: list[float]) -> dict[str, float]:
    return {"p50": round(percentile(values, 0.5), 1), "p99": round(percentile(values, 0.99), 1)}


async def one_run(processes: int, messages: int, waits: int, base: Path) -> dict[str, Any]:
    schema = "bench_" + secrets.token_hex(4)
    conn = await asyncpg.connect(PG_URL)
    await conn.execute(f'CREATE SCHEMA "{schema}"')
    nodes: list[Agentid] = []
    lmtp_ports: list[int] = []
    mta = None
    try:
        for n in range(processes):
            lmtp, lookups = free_port(), free_port()
            nodes.append(
                Agentid(
                    base / f"{schema}-{n}",
                    AGENTID_DATABASE_URL=PG_URL,
                    AGENTID_DATABASE_SCHEMA=schema,
                    AGENTID_LMTP_PORT=str(lmtp),
                    AGENTID_SOCKETMAP_PORT=str(lookups),
                    AGENTID_PARSE_PROCESSES="1",
                )
            )
            lmtp_ports.append(lmtp)
        nodes[0].project("cluster", DOMAIN)
        for n, domain in enumerate(DOMAINS):
            nodes[0].project(f"spread{n}", domain)
        setup = Setup(
            lmtp=[f"inet:127.0.0.1:{port}" for port in lmtp_ports],
            max_message_bytes=26214400,
            max_recipients=100,
            socketmap=f"inet:127.0.0.1:{lookups}",
        )
        mta = EdgeMTA(setup)
        # Spread: the burst's two halves go to two domains, each domain to its own process
        # (with one process, both to it). Postfix tries a destination list in order, so a
        # list alone would send everything to the first process.
        routes = ", ".join(
            f"{domain}=lmtp:[127.0.0.1]:{lmtp_ports[n % processes]}"
            for n, domain in enumerate(DOMAINS)
        )
        mta.postconf("-e", f"transport_maps=inline:{{ {routes} }}")
        mta.postfix("reload")
        cpu_before = [cpu_seconds(node.proc.pid) for node in nodes] + [postfix_cpu(mta)]
        tool = shutil.which("smtp-source", path="/usr/sbin:/usr/bin") or "smtp-source"
        started = time.perf_counter()
        sources = [
            subprocess.Popen(
                [
                    tool,
                    "-d",
                    "-s",
                    "10",
                    "-l",
                    "4096",
                    "-m",
                    str(messages // 2),
                    "-f",
                    "load@bench.example",
                    "-t",
                    f"user@{domain}",
                    f"127.0.0.1:{mta.smtp_port}",
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for domain in DOMAINS
        ]
        for source in sources:
            assert source.wait() == 0, "smtp-source failed"
        messages = messages // 2 * 2
        accepted = time.perf_counter() - started
        while await stored_count(conn, schema) < messages:
            await asyncio.sleep(0.05)
        stored = time.perf_counter() - started
        # listed by the process that then holds the long-polls: its first listing of mail
        # (one-off work, ~80 ms here) is not counted as a wake-up's
        while sum(nodes[-1].count(f"spread{n}") for n in range(2)) < messages:
            await asyncio.sleep(0.1)
        visible = time.perf_counter() - started
        cpu_after = [cpu_seconds(node.proc.pid) for node in nodes] + [postfix_cpu(mta)]
        cpu = [
            round(after - before, 2) for before, after in zip(cpu_before, cpu_after, strict=True)
        ]
        lat = await wake_latencies(nodes[-1], lmtp_ports[0], waits, schema)
        slowest = sorted(lat, reverse=True)[:3]
        return {
            "processes": processes,
            "messages": messages,
            "accepted_msg_s": round(messages / accepted, 1),
            "stored_msg_s": round(messages / stored, 1),
            "visible_msg_s": round(messages / visible, 1),
            "wall_s": round(visible, 2),
            "cpu_s": {"agentid": cpu[:-1], "postfix": cpu[-1]},
            "wake_ms": spread([total for total, _ in lat]),
            "notify_ms": spread([notify for _, notify in lat]),
            "after_notify_ms": spread([total - notify for total, notify in lat]),
            "slowest_ms": [[round(total, 1), round(notify, 1)] for total, notify in slowest],
        }
    finally:
        if mta is not None:
            mta.stop()
        for node in nodes:
            node.stop()
        await conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
        await conn.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--waits", type=int, default=200)
    args = parser.parse_args()
    base = Path(os.environ.get("TMPDIR", "/tmp")) / f"agentid-cluster-{os.getpid()}"
    base.mkdir(mode=0o700)
    try:
        runs = [await one_run(n, args.messages, args.waits, base) for n in (1, 2)]
    finally:
        shutil.rmtree(base, ignore_errors=True)
    print(json.dumps({"bench": "cluster", "runs": runs}))


if __name__ == "__main__":
    asyncio.run(main())
