"""DKIM signing throughput: agentid's DkimSigner against dkimpy's ``dkim.sign`` (one core).

Both sign the same messages the same way (rsa-sha256, relaxed/relaxed, the same h= list)
with an RSA-2048 key made, sealed and opened as provisioning does. Two messages: ~3 KB
(text and HTML alternatives) and ~100 KB (the same with a base64 attachment). Rates use
process CPU time of this single-threaded loop, so other jobs on the machine matter little.
``ours_3kb_2threads_per_s`` is wall-clock with two threads sharing one signer: about twice
the one-thread rate when cryptography releases the GIL around OpenSSL's RSA operation and
the second core is free (``load_1m``, the load average at the start, says whether it was).
Each signer's output is checked once with dkimpy's verifier before it is timed.

Prints exactly one JSON line; target: 150 messages/s signed, the sending target on
the 2-core box (met when both sizes reach it on one core).
"""

from __future__ import annotations

import base64
import json
import os
import random
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

import dkim as dkimpy  # noqa: E402

from agentid.crypto import SecretBox  # noqa: E402
from agentid.email import dkim  # noqa: E402
from agentid.email.outbound.dkim_sign import DkimSigner  # noqa: E402

TARGET = 150  # messages/s with DKIM signing, on the 2-core sending box
MIN_SECONDS = 2.0
DOMAIN, SELECTOR = "bench.example", "agentid"
WORDS = ("your", "verification", "code", "is", "valid", "for", "ten", "minutes", "do", "not",
         "share", "it", "with", "anyone")  # fmt: skip


def message(size: int, seed: int = 1) -> bytes:
    """A MIME message of about ``size`` bytes: text and HTML prose (a few double and
    trailing spaces, as mail has), then a base64 attachment filling up to ``size``."""
    rng = random.Random(seed)
    prose = "\r\n".join(
        " ".join(rng.choice(WORDS) for _ in range(11)) + rng.choice(["", " ", "  x"])
        for _ in range(14)
    )
    head = (
        f"From: Bench <signup@{DOMAIN}>\r\nTo: someone@example.com\r\n"
        f"Subject: Your code\r\nDate: Mon, 1 Jan 2024 00:00:00 +0000\r\n"
        f"Message-ID: <{size}.{seed}@{DOMAIN}>\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/mixed; boundary="m"\r\n\r\n'
        '--m\r\nContent-Type: multipart/alternative; boundary="a"\r\n\r\n'
        f"--a\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{prose}\r\n"
        f"--a\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>{prose}</p>\r\n--a--\r\n"
    ).encode()
    fill = size - len(head) - 200
    if fill <= 0:
        return head + b"--m--\r\n"
    data = base64.encodebytes(rng.randbytes(fill * 3 // 4)).replace(b"\n", b"\r\n")
    return (
        head + b"--m\r\nContent-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n"
        b'Content-Disposition: attachment; filename="invoice.pdf"\r\n\r\n' + data + b"--m--\r\n"
    )


def rate(sign: Callable[[bytes], bytes], msg: bytes) -> float:
    """Messages/s of ``sign`` on ``msg``, in process CPU time, after a warm-up."""
    for _ in range(3):
        sign(msg)
    count, start, elapsed = 0, time.process_time(), 0.0
    while elapsed < MIN_SECONDS:
        for _ in range(10):
            sign(msg)
        count += 10
        elapsed = time.process_time() - start
    return count / elapsed


def threaded_rate(sign: Callable[[bytes], bytes], msg: bytes, threads: int = 2) -> float:
    """Messages/s of ``threads`` threads calling ``sign`` at once, in wall-clock time."""
    per_thread = max(int(rate(sign, msg) * MIN_SECONDS / 2), 10)

    def work() -> None:
        for _ in range(per_thread):
            sign(msg)

    workers = [threading.Thread(target=work) for _ in range(threads)]
    start = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return threads * per_thread / (time.perf_counter() - start)


def main() -> None:
    box = SecretBox("bench-service-key")
    key = dkim.new_key(box)
    pem = dkim.private_key_pem(box, key.sealed_private_key)
    txt = dkim.txt_value(key.public_key_b64).encode()
    signer = DkimSigner(DOMAIN, SELECTOR, pem)
    h = [b"from", b"to", b"subject", b"date", b"message-id", b"mime-version", b"content-type"]

    def theirs(msg: bytes) -> bytes:
        canon = (b"relaxed", b"relaxed")
        field = dkimpy.sign(msg, SELECTOR.encode(), DOMAIN.encode(), pem, canonicalize=canon,
                            include_headers=[*h, b"from"])  # fmt: skip
        return bytes(field) + msg

    rates: dict[str, float] = {}
    out: dict[str, object] = {"bench": "dkim_sign", "key_bits": dkim.KEY_BITS}
    out["load_1m"], out["cpus"] = round(os.getloadavg()[0], 2), os.cpu_count()
    for label, size in (("3kb", 3 * 1024), ("100kb", 100 * 1024)):
        msg = message(size)
        out[f"message_{label}_bytes"] = len(msg)
        for name, sign in (("ours", signer.sign), ("dkimpy", theirs)):
            if not dkimpy.verify(sign(msg), dnsfunc=lambda name, timeout=5: txt):
                raise SystemExit(f"{name}'s signature of the {label} message does not verify")
            rates[f"{name}_{label}"] = rate(sign, msg)
            out[f"{name}_{label}_per_s"] = round(rates[f"{name}_{label}"], 1)
        out[f"speedup_{label}"] = round(rates[f"ours_{label}"] / rates[f"dkimpy_{label}"], 1)
    out["ours_3kb_2threads_per_s"] = round(threaded_rate(signer.sign, message(3 * 1024)), 1)
    out["target_per_s"] = TARGET
    out["met"] = min(rates["ours_3kb"], rates["ours_100kb"]) >= TARGET
    print(json.dumps(out))


if __name__ == "__main__":
    main()
