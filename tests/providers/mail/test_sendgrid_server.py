"""The local SendGrid refuses what SendGrid's errors reference says it refuses, so a
relay test passing against it means the JSON would pass SendGrid's validation too."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tests.providers.mail.sendgrid_server import KEY
from tests.providers.mail.sendgrid_server import SendGrid
from tests.providers.mail.sendgrid_server import validate

VALID: dict[str, Any] = {
    "personalizations": [{"to": [{"email": "a@example.test", "name": "A, B"}]}],
    "from": {"email": "agent@acme.test"},
    "subject": "s",
    "content": [{"type": "text/plain", "value": "x"}, {"type": "text/html", "value": "<p>x"}],
    "headers": {"Message-ID": "<m@acme.test>"},
    "attachments": [{"content": "AAEC", "filename": "a.bin", "type": "application/x"}],
}

Change = Callable[[dict[str, Any]], None]


def recipients(count: int) -> list[dict[str, str]]:
    return [{"email": f"r{n}@example.test"} for n in range(count)]


CHANGES: list[tuple[str, Change, str]] = [
    ("no personalizations", lambda b: b.update(personalizations=[]), "personalizations"),
    ("no to", lambda b: b["personalizations"][0].pop("to"), "personalizations.0.to"),
    ("bad to", lambda b: b["personalizations"][0].update(to=[{"email": "x"}]), "to.0.email"),
    (
        "a recipient twice",
        lambda b: b["personalizations"][0].update(bcc=[{"email": "A@example.test"}]),
        "personalizations.0.bcc.0.email",
    ),
    (
        "1001 recipients",
        lambda b: b["personalizations"][0].update(bcc=recipients(1000)),
        "personalizations",
    ),
    ("no from", lambda b: b.pop("from"), "from"),
    (
        "both reply fields",
        lambda b: b.update(reply_to={"email": "r@a.test"}, reply_to_list=[]),
        "reply_to",
    ),
    ("no subject", lambda b: b.pop("subject"), "subject"),
    ("empty subject", lambda b: b.update(subject=""), "subject"),
    ("no content", lambda b: b.pop("content"), "content"),
    ("html first", lambda b: b["content"].reverse(), "content"),
    ("empty value", lambda b: b["content"][0].update(value=""), "content.0.value"),
    ("reserved header", lambda b: b["headers"].update({"Subject": "x"}), "headers"),
    ("header twice", lambda b: b["headers"].update({"message-id": "<n@a>"}), "headers"),
    ("header not text", lambda b: b["headers"].update({"X-N": 1}), "headers"),
    ("not base64", lambda b: b["attachments"][0].update(content="***"), "attachments.0.content"),
    ("no filename", lambda b: b["attachments"][0].pop("filename"), "attachments.0.filename"),
    ("comma filename", lambda b: b["attachments"][0].update(filename="a,b"), "filename"),
    ("odd disposition", lambda b: b["attachments"][0].update(disposition="x"), "disposition"),
]


def test_the_valid_body_passes() -> None:
    assert validate(copy.deepcopy(VALID)) == []


@pytest.mark.parametrize(
    ("change", "field"), [(c, f) for _, c, f in CHANGES], ids=[n for n, _, _ in CHANGES]
)
def test_refusals(change: Change, field: str) -> None:
    body = copy.deepcopy(VALID)
    change(body)
    found = validate(body)
    assert found and field in (found[0]["field"] or ""), found
    assert all(set(e) == {"message", "field", "help"} for e in found)


async def test_answers_over_http(sendgrid: SendGrid, http: httpx.AsyncClient) -> None:
    url = f"http://127.0.0.1:{sendgrid.port}/v3/mail/send"
    auth = {"Authorization": f"Bearer {KEY}"}
    r = await http.post(url, json=VALID)
    assert r.status_code == 401 and r.json()["errors"][0]["field"] is None
    assert (await http.get(url, headers=auth)).status_code == 405
    assert (await http.post(url + "x", headers=auth)).status_code == 404
    r = await http.post(url, content=b"\xff{", headers=auth)
    assert r.status_code == 415
    r = await http.post(url, content=b"{", headers=auth)
    assert r.status_code == 400 and r.json()["errors"][0]["message"] == "Bad Request"
    r = await http.post(url, json=VALID, headers=auth)
    assert r.status_code == 202 and r.content == b""
    assert r.headers["x-message-id"] == sendgrid.accepted[0].message_id
