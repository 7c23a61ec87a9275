"""Digest throughput: parse + extract + store, as a parse worker does it, on one core.

The shared corpus's .eml files, cycled, are committed as the spool commits them into a
fresh SQLite store, then digested in batches of 64 by ``agentid.email.inbound.digest``.
Counts process CPU time of the digest calls only; prints the median of 5 runs as one
JSON line. Target: >= 1,500 messages/s.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from datetime import UTC
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from sqlalchemy import insert  # noqa: E402

from agentid.email.inbound.digest import digest  # noqa: E402
from agentid.email.inbound.spool import Arrival  # noqa: E402
from agentid.email.inbound.spool import batch_of  # noqa: E402
from agentid.email.inbound.spool_writer import write_batch  # noqa: E402
from agentid.ids import new_id  # noqa: E402
from agentid.store.engines import engine_for_url  # noqa: E402
from agentid.store.tables import Base  # noqa: E402
from agentid.store.tables import Project  # noqa: E402
from agentid.store.tables import table_of  # noqa: E402

CORPUS = ROOT.parent / "shared" / "corpus" / "verification"
TARGET = 1500
BATCH = 64


def one_run(emails: list[bytes], count: int) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        engine = engine_for_url(f"sqlite:///{tmp}/bench.db", None, durable=False)
        Base.metadata.create_all(engine)
        with engine.begin() as conn:
            conn.execute(insert(table_of(Project)), [{"id": "bench", "domain": "bench.test"}])
        ids: list[str] = []
        arrivals = []
        for n in range(count):
            arrival = Arrival(
                "sender@example.org",
                {"bench": ["agent@bench.test"]},
                emails[n % len(emails)],
                "127.0.0.1:1",
                "client.example",
                datetime.now(UTC),
            )
            arrival.message_ids["bench"] = mid = new_id()
            ids.append(mid)
            arrivals.append(arrival)
        for start in range(0, count, 256):
            write_batch(engine, batch_of(arrivals[start : start + 256]))
        started = time.process_time()
        for start in range(0, count, BATCH):
            digest(engine, ids[start : start + BATCH])
        elapsed = time.process_time() - started
        engine.dispose()
    return count / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=3000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    emails = [p.read_bytes() for p in sorted(CORPUS.glob("*.eml"))]
    if not emails:
        sys.exit(f"no corpus at {CORPUS}")
    rates = [one_run(emails, args.messages) for _ in range(args.runs)]
    rate = statistics.median(rates)
    print(
        json.dumps(
            {
                "bench": "digest",
                "messages": args.messages,
                "runs": args.runs,
                "msgs_per_s": round(rate),
                "min": round(min(rates)),
                "max": round(max(rates)),
                "target": TARGET,
                "met": rate >= TARGET,
            }
        )
    )


if __name__ == "__main__":
    main()
