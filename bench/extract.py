"""Throughput of the verification code / link extractor over the labelled corpus (one core).

Prints exactly one JSON line. ``emails_per_s`` is the extractor proper (decoded parts in,
codes and links out; target 3,000/s); ``eml_emails_per_s`` is end to end from raw bytes
(``extract_eml``: agentid's MIME reader, then the extractor; target 1,000/s). Both use
process CPU time, and each is the median of five runs (with the slowest and fastest), as
``digest.py`` reports: on this virtual machine one run of the same code varies by a third.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

import email  # noqa: E402
import email.policy  # noqa: E402
from email.message import Message  # noqa: E402

from agentid.extract import extract_email  # noqa: E402
from agentid.extract import extract_eml  # noqa: E402

CORPUS = ROOT.parent / "shared" / "corpus" / "verification"
TARGET = 3000  # the extractor proper, emails/s (issue 9)
TARGET_EML = 1000  # end to end from raw bytes
MIN_SECONDS = 1.0
RUNS = 5


def _decoded(part: Message) -> str:
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        raw = part.get_payload()
        return raw if isinstance(raw, str) else ""
    charset = part.get_content_charset() or "utf-8"
    try:
        return payload.decode(charset, errors="replace")
    except LookupError:
        return payload.decode("utf-8", errors="replace")


def _parts(raw: bytes) -> dict[str, str | None]:
    """Subject and decoded inline text/plain and text/html bodies, with the stdlib only."""
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    texts: list[str] = []
    htmls: list[str] = []
    for part in msg.walk():
        ctype = part.get_content_type()
        if ctype not in ("text/plain", "text/html") or part.is_attachment():
            continue
        (texts if ctype == "text/plain" else htmls).append(_decoded(part))
    return {
        "subject": str(msg.get("subject") or ""),
        "text": "\n\n".join(texts) if texts else None,
        "html": "\n".join(htmls) if htmls else None,
    }


def _rates(fn: object, items: list[object]) -> list[float]:
    """Items per second of CPU time, in ``RUNS`` runs of at least ``MIN_SECONDS`` each."""
    call = fn if callable(fn) else None
    assert call is not None
    for item in items:  # warm-up (regex compilation, imports)
        call(item)
    rates = []
    for _ in range(RUNS):
        # CPU time of this (single-threaded) process: robust when other jobs share the machine
        count, start, elapsed = 0, time.process_time(), 0.0
        while elapsed < MIN_SECONDS:
            for item in items:
                call(item)
            count += len(items)
            elapsed = time.process_time() - start
        rates.append(count / elapsed)
    return rates


def main() -> None:
    emails = [p.read_bytes() for p in sorted(CORPUS.glob("*.eml"))]
    if not emails:
        print(json.dumps({"bench": "extract", "error": f"no corpus at {CORPUS}"}))
        return
    # the extractor proper: decoded subject/text/html parts in, codes and links out
    parts: list[object] = [_parts(raw) for raw in emails]
    rates = _rates(lambda p: extract_email(**p), parts)
    # end to end from raw bytes, MIME reading included
    eml_rates = _rates(extract_eml, list(emails))
    rate, eml_rate = statistics.median(rates), statistics.median(eml_rates)
    print(
        json.dumps(
            {
                "bench": "extract",
                "emails": len(emails),
                "runs": RUNS,
                "emails_per_s": round(rate, 1),
                "min": round(min(rates), 1),
                "max": round(max(rates), 1),
                "target_emails_per_s": TARGET,
                "eml_emails_per_s": round(eml_rate, 1),
                "target_eml_emails_per_s": TARGET_EML,
                "met": rate >= TARGET and eml_rate >= TARGET_EML,
            }
        )
    )


if __name__ == "__main__":
    main()
