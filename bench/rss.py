"""Memory under sustained ingest: RSS of `agentid serve` across 100k messages.

Sends rounds of 10 KB messages (smtp-source when installed, else the Python generator),
lets parsing catch up after each round, and samples the server's RSS (and the total
PSS of its helper processes). Prints one JSON line; target: RSS flat within +-20% after
the first round, idle RSS < 150 MB.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from pathlib import Path

from ingest import RCPTS
from ingest import smtp_source
from ingest import smtp_source_tool
from serverproc import Agentid
from serverproc import rss_mb
from serverproc import tree_pss_mb
from smtp_load import run_load


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--env", nargs="*", default=[], help="NAME=value for the server")
    args = parser.parse_args()
    per_round = args.messages // args.rounds
    with tempfile.TemporaryDirectory() as tmp:
        server = Agentid(Path(tmp) / "data", **dict(e.split("=", 1) for e in args.env))
        try:
            server.project("bench", "bench.test")
            idle, idle_tree = rss_mb(server.proc.pid), tree_pss_mb(server.proc.pid)
            samples, sent = [], 0
            for _ in range(args.rounds):
                load = argparse.Namespace(messages=per_round, sessions=20, size=10240)
                if smtp_source_tool() is not None:
                    smtp_source(server.smtp_port, load)
                else:
                    asyncio.run(
                        run_load("127.0.0.1", server.smtp_port, RCPTS, per_round, 20, 10240)
                    )
                sent += per_round
                while server.count("bench") < sent:
                    time.sleep(0.5)
                samples.append(round(rss_mb(server.proc.pid), 1))
            tree = tree_pss_mb(server.proc.pid)
        finally:
            server.stop()
    settled = samples[0]
    print(
        json.dumps(
            {
                "bench": "rss",
                "messages": sent,
                "idle_rss_mb": round(idle, 1),
                "idle_tree_pss_mb": round(idle_tree, 1),
                "rss_mb_after_each_round": samples,
                "growth_after_first_round": round(max(samples) / settled - 1, 3),
                "tree_pss_mb_at_end": round(tree, 1),
                "targets": {"idle_rss_mb": 150, "growth_after_first_round": 0.2},
            }
        )
    )


if __name__ == "__main__":
    main()
