"""Memory under large messages: 16 senders each send one 24 MiB message at the same time.

Starts `agentid serve` (default settings: the spool writer and the parse workers as in
production), sends the messages over smtplib from 16 threads of this process (which is not
part of the measured tree), and samples the PSS of the server's whole process tree (the
server and every child, as bench/rss.py) every 50 ms from the first connection until every
message is listed in the inbox. Prints one JSON line; target (issue 7): peak < 400 MB.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import smtplib
import tempfile
import threading
import time
from pathlib import Path

from serverproc import Agentid
from serverproc import tree_pss_mb

TARGET_MB = 400
MiB = 1024 * 1024


def large_message(index: int, rcpt: str, size: int) -> bytes:
    """A MIME message of about ``size`` bytes: a text part and a base64 attachment."""
    head = (
        f"From: Large <large@bench.example>\r\nTo: {rcpt}\r\nSubject: large {index}\r\n"
        f"Message-ID: <large.{index}.{os.getpid()}@bench.example>\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\n'
        "Content-Type: text/plain\r\n\r\nYour verification code is 482913.\r\n--b\r\n"
        "Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n"
        'Content-Disposition: attachment; filename="big.bin"\r\n\r\n'
    ).encode()
    tail = b"--b--\r\n"
    lines = (size - len(head) - len(tail)) // 78  # 76 characters and CRLF
    encoded = base64.b64encode(os.urandom(lines * 57))
    body = b"\r\n".join(encoded[i : i + 76] for i in range(0, len(encoded), 76))
    return head + body + b"\r\n" + tail


def send(port: int, rcpt: str, message: bytes, replies: list[str]) -> None:
    with smtplib.SMTP("127.0.0.1", port, timeout=300) as smtp:
        smtp.sendmail("large@bench.example", [rcpt], message)
        replies.append("250")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=16)
    parser.add_argument("--mb", type=int, default=24, help="MiB per message")
    parser.add_argument("--env", nargs="*", default=[], help="NAME=value for the server")
    args = parser.parse_args()
    rcpt = "agent@bench.test"
    with tempfile.TemporaryDirectory() as tmp:
        server = Agentid(Path(tmp) / "data", **dict(e.split("=", 1) for e in args.env))
        try:
            server.project("bench", "bench.test")
            idle = tree_pss_mb(server.proc.pid)
            messages = [large_message(n, rcpt, args.mb * MiB) for n in range(args.messages)]
            replies: list[str] = []
            senders = [
                threading.Thread(target=send, args=(server.smtp_port, rcpt, m, replies))
                for m in messages
            ]
            peak, started = idle, time.monotonic()
            for sender in senders:
                sender.start()
            while any(s.is_alive() for s in senders) or server.count("bench") < len(replies):
                peak = max(peak, tree_pss_mb(server.proc.pid))
                time.sleep(0.05)
                if time.monotonic() - started > 600:
                    raise RuntimeError("the messages were not all listed within 10 minutes")
            elapsed = time.monotonic() - started
        finally:
            server.stop()
    print(
        json.dumps(
            {
                "bench": "large_messages",
                "messages": args.messages,
                "mb_each": args.mb,
                "accepted": len(replies),
                "idle_tree_pss_mb": round(idle, 1),
                "peak_tree_pss_mb": round(peak, 1),
                "seconds_until_listed": round(elapsed, 1),
                "target_mb": TARGET_MB,
                "met": peak < TARGET_MB and len(replies) == args.messages,
            }
        )
    )


if __name__ == "__main__":
    main()
