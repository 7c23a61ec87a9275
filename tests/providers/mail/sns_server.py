"""A local Amazon SNS, as far as an HTTP(S) subscriber sees it: a real HTTP server on
127.0.0.1 (the OS picks the port) serving the signing certificate (self-signed RSA,
tests/tls.py) and answering subscription confirmations, and ``message`` making the JSON
SNS posts, signed with that certificate's key as SNS's published contract has it
(SignatureVersion 1: SHA1withRSA, 2: SHA256withRSA, over the canonical string)."""

from __future__ import annotations

import base64
import json
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from dataclasses import field
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from http.server import BaseHTTPRequestHandler
from http.server import ThreadingHTTPServer
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.tls import rsa_signing_cert

HOST = "127.0.0.1"
TOPIC = "arn:aws:sns:us-east-1:123456789012:ses-bounces"
CERT_PATH = "/SimpleNotificationService-0000000000000000000000.pem"
CONFIRMATION = (
    '<ConfirmSubscriptionResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/">'
    "<ConfirmSubscriptionResult><SubscriptionArn>{arn}:sub-1</SubscriptionArn>"
    "</ConfirmSubscriptionResult></ConfirmSubscriptionResponse>"
)
NOTIFICATION = ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type")
CONFIRM = ("Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type")


@dataclass
class Sns:
    cert: bytes
    key: rsa.RSAPrivateKey
    port: int = 0
    requests: list[str] = field(default_factory=list)  # paths GET asked for, in order

    def url(self, path: str, host: str = HOST) -> str:
        return f"http://{host}:{self.port}{path}"

    def message(
        self,
        kind: str = "Notification",
        body: str = "",
        *,
        version: str = "2",
        at: datetime | None = None,
        topic: str = TOPIC,
        cert_url: str | None = None,
        key: rsa.RSAPrivateKey | None = None,
        **extra: str,
    ) -> bytes:
        """The JSON SNS posts, signed (with ``key``, another one to forge)."""
        stamp = (at or datetime.now(UTC)).isoformat(timespec="milliseconds")
        message: dict[str, Any] = {
            "Type": kind,
            "MessageId": str(uuid.uuid4()),
            "TopicArn": topic,
            "Message": body,
            "Timestamp": stamp.replace("+00:00", "Z"),
            "SignatureVersion": version,
            "SigningCertURL": cert_url or self.url(CERT_PATH),
            **extra,
        }
        if kind != "Notification":
            message.setdefault("Token", "2336412f37fb687f5d51e6e2425c464d" * 4)
            message.setdefault(
                "SubscribeURL", self.url(f"/?Action=ConfirmSubscription&TopicArn={topic}")
            )
        fields = NOTIFICATION if kind == "Notification" else CONFIRM
        text = "".join(f"{n}\n{message[n]}\n" for n in fields if n in message)
        algorithm = hashes.SHA1() if version == "1" else hashes.SHA256()
        signature = (key or self.key).sign(text.encode(), padding.PKCS1v15(), algorithm)
        message["Signature"] = base64.b64encode(signature).decode()
        return json.dumps(message).encode()


def complaint(message_id: str, *addresses: str, feedback: str = "abuse") -> str:
    """SES's complaint notification (the SNS Message), as SES's guide shows it."""
    return json.dumps(
        {
            "notificationType": "Complaint",
            "complaint": {
                "userAgent": "ExampleCorp Feedback Loop (V0.01)",
                "complainedRecipients": [{"emailAddress": a} for a in addresses],
                "complaintFeedbackType": feedback,
                "arrivalDate": datetime.now(UTC).isoformat(),
                "timestamp": datetime.now(UTC).isoformat(),
                "feedbackId": "000001378603177f-18c07c78-fa81-4a58-9dd1-fedc3cb8f49a-000000",
            },
            "mail": {
                "timestamp": (datetime.now(UTC) - timedelta(seconds=5)).isoformat(),
                "source": "agent@acme.test",
                "messageId": message_id,
                "destination": list(addresses),
            },
        }
    )


def bounce(message_id: str, *addresses: str, kind: str = "Permanent") -> str:
    """SES's bounce notification (the SNS Message), as SES's guide shows it."""
    return json.dumps(
        {
            "notificationType": "Bounce",
            "bounce": {
                "bounceType": kind,
                "bounceSubType": "General" if kind == "Permanent" else "MailboxFull",
                "bouncedRecipients": [
                    {
                        "emailAddress": a,
                        "action": "failed",
                        "status": "5.1.1",
                        "diagnosticCode": "smtp; 550 5.1.1 user unknown",
                    }
                    for a in addresses
                ],
                "timestamp": datetime.now(UTC).isoformat(),
                "feedbackId": "0102015fd91a6479-ae22395c-000000",
                "reportingMTA": "dsn; a4-8.smtp-out.us-east-1.amazonses.com",
            },
            "mail": {
                "timestamp": (datetime.now(UTC) - timedelta(seconds=5)).isoformat(),
                "source": "agent@acme.test",
                "messageId": message_id,
                "destination": list(addresses),
            },
        }
    )


def _handler(sns: Sns) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            sns.requests.append(self.path)
            if self.path == CERT_PATH:
                status, payload, kind = 200, sns.cert, "application/x-x509-ca-cert"
            elif self.path.startswith("/?Action=ConfirmSubscription"):
                status, kind = 200, "text/xml"
                payload = CONFIRMATION.format(arn=TOPIC).encode()
            else:
                status, payload, kind = 404, b"not found", "text/plain"
            self.send_response(status)
            self.send_header("content-type", kind)
            self.send_header("content-length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            return None

    return Handler


@contextmanager
def running_sns() -> Iterator[Sns]:
    cert, key = rsa_signing_cert()
    sns = Sns(cert, key)
    server = ThreadingHTTPServer((HOST, 0), _handler(sns))
    server.daemon_threads = True
    sns.port = int(server.server_address[1])
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield sns
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
