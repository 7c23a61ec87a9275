"""A lean SMTP load generator shared by the benchmarks (one process, asyncio streams).

Each session says EHLO once and then sends messages back to back (MAIL, RCPT, DATA),
recording the time from the end of DATA to the server's reply.
"""

from __future__ import annotations

import asyncio
import os
import time
from dataclasses import dataclass
from dataclasses import field


def make_message(index: int, rcpt: str, size: int) -> bytes:
    head = (
        f"From: Load <load@bench.example>\r\nTo: {rcpt}\r\n"
        f"Subject: bench message {index}\r\nMessage-ID: <{index}.{os.getpid()}@bench.example>\r\n"
        "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
    ).encode()
    line = b"The quick brown fox jumps over the lazy dog, again and again and again.\r\n"
    body = line * max(1, (size - len(head)) // len(line))
    return head + body


@dataclass
class LoadResult:
    sent: int = 0
    accepted: int = 0
    refused: int = 0
    latencies: list[float] = field(default_factory=list)
    replies: list[str] = field(default_factory=list)


async def _reply(reader: asyncio.StreamReader) -> str:
    lines = []
    while True:
        line = await reader.readline()
        if not line:
            raise ConnectionError("server closed the connection")
        lines.append(line.decode("utf-8", "replace").rstrip("\r\n"))
        if len(line) < 4 or line[3:4] != b"-":
            return "\n".join(lines)


async def session(
    host: str,
    port: int,
    jobs: asyncio.Queue[tuple[int, str]],
    size: int,
    result: LoadResult,
    keep_replies: bool = False,
) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    await _reply(reader)
    writer.write(b"EHLO bench.example\r\n")
    await _reply(reader)
    try:
        while True:
            try:
                index, rcpt = jobs.get_nowait()
            except asyncio.QueueEmpty:
                break
            data = make_message(index, rcpt, size)
            writer.write(f"MAIL FROM:<load@bench.example>\r\nRCPT TO:<{rcpt}>\r\n".encode())
            await _reply(reader)
            rcpt_reply = await _reply(reader)
            if not rcpt_reply.startswith("250"):
                result.refused += 1
                writer.write(b"RSET\r\n")
                await _reply(reader)
                continue
            writer.write(b"DATA\r\n")
            await _reply(reader)
            writer.write(data)
            started = time.perf_counter()
            writer.write(b".\r\n")
            reply = await _reply(reader)
            result.latencies.append(time.perf_counter() - started)
            result.sent += 1
            if reply.startswith("250"):
                result.accepted += 1
                if keep_replies:
                    result.replies.append(reply)
            else:
                result.refused += 1
        writer.write(b"QUIT\r\n")
        await writer.drain()
    finally:
        writer.close()


async def run_load(
    host: str, port: int, rcpts: list[str], total: int, sessions: int, size: int
) -> tuple[LoadResult, float]:
    jobs: asyncio.Queue[tuple[int, str]] = asyncio.Queue()
    for i in range(total):
        jobs.put_nowait((i, rcpts[i % len(rcpts)]))
    result = LoadResult()
    started = time.perf_counter()
    await asyncio.gather(*(session(host, port, jobs, size, result) for _ in range(sessions)))
    return result, time.perf_counter() - started


async def hand_over(port: int, greeting: bytes, rcpt: str, data: bytes) -> float:
    """One message over its own SMTP (``EHLO``) or LMTP (``LHLO``) connection; the
    perf_counter time of the 250 that accepted it."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)

    async def reply() -> bytes:
        while True:
            line = await reader.readline()
            if len(line) < 4 or line[3:4] != b"-":
                return line

    await reply()
    for command in (greeting + b" bench\r\n", b"MAIL FROM:<w@bench.example>\r\n"):
        writer.write(command)
        await reply()
    writer.write(f"RCPT TO:<{rcpt}>\r\n".encode())
    await reply()
    writer.write(b"DATA\r\n")
    await reply()
    writer.write(data + b".\r\n")
    assert (await reply()).startswith(b"250")
    accepted = time.perf_counter()
    writer.write(b"QUIT\r\n")
    writer.close()
    return accepted


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]
