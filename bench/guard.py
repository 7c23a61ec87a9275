"""Throughput of the outbound guard (``find_leaks``) on a 1 MB body, 5,000 received secrets.

Prints exactly one JSON line. The received secrets are a busy project's 24 hours: 4,000
codes (six digits, some with letters and a dash) and 1,000 magic links on 50 hosts. The
body is prose with numbers, dates, phone numbers and links to those hosts carrying other
tokens, none of them a received secret: the guard reads all of it. ``text_mb_per_s`` is
the body as the text part, ``html_mb_per_s`` the same prose as an HTML part (searched
twice: source and text); both per second of process CPU time, secrets' preparation
included.
"""

from __future__ import annotations

import json
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from agentid.email.outbound.guard import Outgoing  # noqa: E402
from agentid.email.outbound.guard import ReceivedSecret  # noqa: E402
from agentid.email.outbound.guard import find_leaks  # noqa: E402

BODY_BYTES = 1_000_000
SECRETS = 5_000
LINKS = 1_000
HOSTS = 50
MIN_SECONDS = 2.0
WORDS = [
    "the", "your", "code", "account", "please", "verify", "we", "sent", "a", "new", "sign",
    "in", "from", "device", "if", "this", "was", "not", "you", "ignore", "message", "thanks",
    "team", "support", "order", "number", "invoice", "total", "due", "on", "call", "café",
    "—", "Größe",
]  # fmt: skip


def _secrets(rng: random.Random) -> list[ReceivedSecret]:
    out: list[ReceivedSecret] = []
    for i in range(SECRETS - LINKS):
        code = f"{rng.randrange(10**6):06d}"
        if i % 10 == 0:
            code = f"{rng.choice('ABCDEFGH')}-{code}"
        out.append(ReceivedSecret(code, "code", "email" if i % 3 else "sms", f"m{i}"))
    for i in range(LINKS):
        token = "".join(rng.choices("abcdefghijklmnopqrstuvwxyz0123456789", k=32))
        url = f"https://login.host{i % HOSTS}.example/magic?token={token}"
        out.append(ReceivedSecret(url, "link", "email", f"l{i}"))
    return out


def _body(rng: random.Random, codes: set[str]) -> str:
    pieces: list[str] = []
    size = 0
    while size < BODY_BYTES:  # (a few characters are two bytes: counted as one)
        roll = rng.random()
        if roll < 0.05:
            number = f"{rng.randrange(10**6):06d}"
            piece = "1" + number if number in codes else number  # never a received code
        elif roll < 0.07:
            middle = f"{rng.randrange(1000):03d}"
            if "415" + middle in codes:  # "415-123" spells 415123
                continue
            piece = f"+1 415-{middle}-{rng.randrange(10000):04d}"
        elif roll < 0.08:
            piece = f"https://login.host{rng.randrange(HOSTS)}.example/magic?token=other{size}"
        elif roll < 0.1:
            piece = rng.choice(WORDS) + "."
        else:
            piece = rng.choice(WORDS)
        pieces.append(piece)
        size += len(piece) + 1
    return " ".join(pieces)[:BODY_BYTES]


def _rate(outgoing: Outgoing, secrets: list[ReceivedSecret]) -> tuple[float, int]:
    """MB/s of process CPU time over at least MIN_SECONDS, and the leaks found."""
    leaks = len(find_leaks(outgoing, secrets))  # warm-up
    count, start, elapsed = 0, time.process_time(), 0.0
    while elapsed < MIN_SECONDS:
        find_leaks(outgoing, secrets)
        count += 1
        elapsed = time.process_time() - start
    return count * len((outgoing.text or outgoing.html or "").encode()) / 1e6 / elapsed, leaks


def main() -> None:
    rng = random.Random(9)
    secrets = _secrets(rng)
    codes = {s.value for s in secrets if s.kind == "code"}
    body = _body(rng, codes)
    html = "<html><body><p>" + body.replace(". ", ".</p>\n<p>") + "</p></body></html>"
    text_rate, text_leaks = _rate(Outgoing("Re: your order", text=body), secrets)
    html_rate, html_leaks = _rate(Outgoing("Re: your order", html=html), secrets)
    print(
        json.dumps(
            {
                "bench": "guard",
                "body_bytes": len(body.encode()),
                "secrets": len(secrets),
                "text_mb_per_s": round(text_rate, 2),
                "html_mb_per_s": round(html_rate, 2),
                "leaks": text_leaks + html_leaks,
            }
        )
    )


if __name__ == "__main__":
    main()
