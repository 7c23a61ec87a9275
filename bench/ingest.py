"""Ingest throughput: agentid (durable group commit + parsing) against a bare aiosmtpd sink.

10 KB messages, 20 concurrent SMTP sessions, 5,000 messages into a fresh data dir; prints
one JSON line. Both servers get the same generators: Postfix's smtp-source when it is
installed (the tool Postfix itself was measured with here, 620-870 msg/s with
``smtp-source -d -s 20 -l 10240 -m 5000``), and always our Python generator, which also
times each DATA-to-reply. Targets: >= 0.7x the bare sink, >= 1.3x Postfix (1,131 msg/s),
idle RSS < 150 MB. ``--messages 100000`` also shows RSS staying flat under sustained load.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from serverproc import Agentid, Sink, peak_rss_mb, rss_mb
from smtp_load import percentile, run_load

POSTFIX_HIGH = 870.0
RCPTS = [f"user{i}@bench.test" for i in range(50)]


def smtp_source(port: int, messages: int, sessions: int, size: int) -> float | None:
    """Messages per second through Postfix's smtp-source, or None when it is not installed."""
    tool = shutil.which("smtp-source") or (
        "/usr/sbin/smtp-source" if Path("/usr/sbin/smtp-source").exists() else None
    )
    if tool is None:
        return None
    cmd = [tool, "-d", "-s", str(sessions), "-l", str(size), "-m", str(messages)]
    cmd += ["-f", "load@bench.example", "-t", RCPTS[0], f"127.0.0.1:{port}"]
    started = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True)
    return messages / (time.perf_counter() - started)


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


def measure_agentid(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        env = {"AGENTID_DATABASE_URL": args.database_url} if args.database_url else {}
        server = Agentid(Path(tmp) / "data", **env)
        try:
            server.project("bench", "bench.test")
            idle = rss_mb(server.proc.pid)
            source_rate = smtp_source(server.smtp_port, args.messages, args.sessions, args.size)
            rss_after_first = rss_mb(server.proc.pid)
            py = python_load(server.smtp_port, args)
            expected = py["accepted"] + (args.messages if source_rate else 0)
            started = time.perf_counter()
            while server.count("bench") < expected:
                time.sleep(0.1)
            parse_lag = time.perf_counter() - started
            return {
                "source_rate": source_rate,
                "py": py,
                "idle_rss": idle,
                "rss_after_first": rss_after_first,
                "rss_end": rss_mb(server.proc.pid),
                "peak_rss": peak_rss_mb(server.proc.pid),
                "parse_lag": parse_lag,
            }
        finally:
            server.stop()


def measure_sink(args: argparse.Namespace) -> dict[str, Any]:
    sink = Sink()
    try:
        source_rate = smtp_source(sink.smtp_port, args.messages, args.sessions, args.size)
        return {"source_rate": source_rate, "py": python_load(sink.smtp_port, args)}
    finally:
        sink.stop()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--size", type=int, default=10240)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()

    ours, sink = measure_agentid(args), measure_sink(args)
    generator = "smtp-source" if ours["source_rate"] else "python"
    rate = ours["source_rate"] or ours["py"]["rate"]
    sink_rate = sink["source_rate"] or sink["py"]["rate"]
    print(
        json.dumps(
            {
                "bench": "ingest",
                "generator": generator,
                "messages": args.messages,
                "sessions": args.sessions,
                "size": args.size,
                "messages_per_s": round(rate, 1),
                "sink_messages_per_s": round(sink_rate, 1),
                "ratio_to_sink": round(rate / sink_rate, 3),
                "ratio_to_postfix_high": round(rate / POSTFIX_HIGH, 3),
                "python_generator": {
                    "messages_per_s": round(ours["py"]["rate"], 1),
                    "sink_messages_per_s": round(sink["py"]["rate"], 1),
                    "ratio_to_sink": round(ours["py"]["rate"] / sink["py"]["rate"], 3),
                },
                "p50_accept_ms": round(ours["py"]["p50_ms"], 2),
                "p99_accept_ms": round(ours["py"]["p99_ms"], 2),
                "parsed_all_after_s": round(ours["parse_lag"], 2),
                "idle_rss_mb": round(ours["idle_rss"], 1),
                "rss_after_first_load_mb": round(ours["rss_after_first"], 1),
                "rss_end_mb": round(ours["rss_end"], 1),
                "peak_rss_mb": round(ours["peak_rss"], 1),
                "targets": {"ratio_to_sink": 0.7, "messages_per_s": 1131, "idle_rss_mb": 150},
            }
        )
    )


if __name__ == "__main__":
    main()
