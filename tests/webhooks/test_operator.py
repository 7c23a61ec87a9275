"""The operator's webhook, on both stores: every project's ``escalation.opened`` goes to
AGENTID_OPERATOR_WEBHOOK_URL, signed with AGENTID_OPERATOR_WEBHOOK_SECRET, and nothing
else does; an escalation's answer is never posted. The escalations themselves are not on
this branch: their events are written here as that feature writes them."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from sqlalchemy import select

from agentid.app import create_app
from agentid.errors import ValidationFailed
from agentid.events import Kind
from agentid.store.tables import Webhook
from tests.conftest import backend_store
from tests.conftest import make_settings
from tests.conftest import start_service
from tests.service import create_project
from tests.webhooks.helpers import FAST
from tests.webhooks.helpers import add_webhook
from tests.webhooks.helpers import append_event
from tests.webhooks.receiver import receiving
from tests.webhooks.receiver import verified

SECRET = "whsec_" + base64.b64encode(bytes(range(32))).decode()
QUESTION = "Which code did the bank send to your phone?"


def escalation(eid: str, answer: str | None = None) -> dict[str, object]:
    """An escalation as its API shows it (the fields the payload keeps, and its answer)."""
    return {
        "id": eid, "status": "answered" if answer else "open", "question": QUESTION,
        "site": "bank.example", "created_at": "2030-01-01T10:00:00Z", "answer": answer,
        "answered_at": "2030-01-01T10:01:00Z" if answer else None,
    }  # fmt: skip


async def test_escalations_of_every_project_reach_the_operator(
    backend: str, tmp_path: Path
) -> None:
    async with backend_store(backend) as schema, receiving(500) as operator, receiving() as project:
        settings = {**FAST, "operator_webhook_url": operator.url("/ops"),
                    "operator_webhook_secret": SECRET}  # fmt: skip
        async with start_service(tmp_path / "data", schema, **settings) as service:
            await create_project(service, "acme")
            await create_project(service, "beta")
            hook = await add_webhook(service, project.url(), ["escalation.answered"])
            await append_event(
                service, "acme", Kind.ESCALATION_ANSWERED, escalation("E1", "482913"), "E1"
            )
            await append_event(service, "acme", Kind.ESCALATION_OPENED, escalation("E2"), "E2")
            await append_event(service, "beta", Kind.ESCALATION_OPENED, escalation("E3"), "E3")
            await operator.wait_for(3)  # a 500 first: retried like any webhook
            (answered,) = await project.wait_for(1)
        async with (
            start_service(tmp_path / "data", schema, **FAST) as service,
            service.running.runtime.sessions() as session,
        ):
            left = (await session.scalars(select(Webhook.id))).all()
    sent = [verified(SECRET, seen) for seen in operator.requests]
    assert len(sent) == 3 and {s["type"] for s in sent} == {"escalation.opened"}
    by_project = {s["data"]["project_id"]: s["data"] for s in sent}
    assert sorted(by_project) == ["acme", "beta"]
    assert by_project["beta"] == {
        "project_id": "beta", "id": "E3", "status": "open", "site": "bank.example",
        "question": QUESTION, "created_at": "2030-01-01T10:00:00Z", "answered_at": None,
    }  # fmt: skip
    assert operator.requests[0].target == "/ops"
    theirs = verified(hook["secret"], answered)
    assert theirs["type"] == "escalation.answered" and theirs["data"]["id"] == "E1"
    assert "answer" not in theirs["data"] and b"482913" not in answered.body
    assert left == [hook["id"]]  # the operator's webhook goes with its setting


@pytest.mark.parametrize(
    ("extra", "said"),
    [
        ({}, "AGENTID_OPERATOR_WEBHOOK_SECRET is required"),
        ({"operator_webhook_secret": "not-a-secret"}, "whsec_"),
        ({"operator_webhook_secret": "whsec_" + base64.b64encode(b"short").decode()}, "24 to 64"),
    ],
)
def test_a_bad_operator_webhook_setting_stops_the_start(
    tmp_path: Path, extra: dict[str, str], said: str
) -> None:
    settings = make_settings(tmp_path, operator_webhook_url="https://ops.example/hook", **extra)
    with pytest.raises(ValidationFailed, match=said) as raised:
        create_app(settings)
    assert "not-a-secret" not in raised.value.message


@pytest.mark.parametrize(
    ("url", "said"),
    [("ftp://ops.example/", "http:// or https://"), ("http://10.0.0.5/", "a private address")],
)
def test_a_bad_operator_webhook_url_stops_the_start(tmp_path: Path, url: str, said: str) -> None:
    settings = make_settings(tmp_path, operator_webhook_url=url, operator_webhook_secret=SECRET)
    with pytest.raises(ValidationFailed, match="AGENTID_OPERATOR_WEBHOOK_URL") as raised:
        create_app(settings)
    assert said in raised.value.message
