"""The agent's side of ``agentid.client``: a client bound to one project (from arguments or
the ``AGENTID_*`` environment), its identity, aliases, mail, and the code of one site, against
a real agentid."""

from __future__ import annotations

import asyncio
import time

import pytest

from agentid.client import AsyncClient
from agentid.client import Client
from agentid.codes.schemas import CodeOut
from agentid.codes.schemas import EscalationOut
from agentid.codes.schemas import TotpCode
from agentid.codes.schemas import TotpOut
from agentid.codes.totp import code_at
from agentid.codes.totp import parse_uri
from agentid.email.outbound.schemas import SendAccepted
from agentid.errors import Forbidden
from agentid.errors import NotFound
from agentid.errors import Timeout
from agentid.errors import Unauthorized
from agentid.errors import ValidationFailed
from agentid.projects.schemas import Identity
from agentid.projects.schemas import Me
from tests.conftest import ADMIN
from tests.conftest import Service
from tests.service import create_project
from tests.service import hosted
from tests.service import listening
from tests.service import message
from tests.service import new_token
from tests.service import send


def code_mail(to: str, body: str, sender: str) -> bytes:
    return message(to, "Your code", body, sender)


async def test_an_agent_signs_up_with_the_async_client(service: Service) -> None:
    await hosted(service, "acme", "acme.test")
    token = await new_token(service, "acme")
    async with AsyncClient(service.running.url, token, project="acme") as agent:
        me = await agent.me()
        assert isinstance(me, Me) and (me.admin, me.project) == (False, "acme")
        found = await agent.identity()
        assert isinstance(found, Identity) and found.email == "agent@acme.test"
        alias = (await agent.new_alias(label="notion")).address
        assert alias.startswith("notion-") and alias.endswith("@acme.test")

        waiting = asyncio.create_task(agent.wait_for_code(site="notion.so", timeout=20))
        await listening(service, "acme")
        await send(service, alias, code_mail(alias, "Code: 111111", "Evil <x@notion.so.evil.com>"))
        body = "Your Notion code is 482913"
        await send(service, alias, code_mail(alias, body, "Notion <notify@mail.notion.so>"))
        code = await waiting
        assert isinstance(code, CodeOut)
        assert (code.value, code.used, code.kind) == ("482913", True, "code")

        with pytest.raises(Timeout) as info:  # used now; the look-alike is another site
            await agent.wait_for_code(site="notion.so", timeout=0.5)
        reasons = {(s.from_ or "").split("@")[-1]: s.reason for s in info.value.skipped}
        assert reasons == {"mail.notion.so": "used", "notion.so.evil.com": "other site"}
        assert info.value.status == 504 and "no code arrived" in info.value.message

        page = await agent.inbox(to=alias, wait=5)
        assert len(page.messages) == 2
        shown = await agent.message(page.messages[0].id)
        assert shown.text is not None and "482913" in shown.text

        link_mail = message(
            alias, "Sign in", "Sign in: https://notion.so/login?token=abc123def456", "n@notion.so"
        )
        await send(service, alias, link_mail)
        link = await agent.wait_for_link(site="notion.so", timeout=10)
        assert link.value.startswith("https://notion.so/login")

        sent = await agent.send_email(alias, "hello", "just a note")
        assert isinstance(sent, SendAccepted)
        arrived = await agent.inbox(to=alias, subject="hello", wait=10)
        assert [m.subject for m in arrived.messages] == ["hello"]


async def test_the_sync_client_from_the_environment(
    service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    await hosted(service, "acme", "acme.test")
    token = await new_token(service, "acme")
    monkeypatch.setenv("AGENTID_URL", service.running.url)
    monkeypatch.setenv("AGENTID_TOKEN", token)
    monkeypatch.setenv("AGENTID_PROJECT", "acme")

    def blocking() -> tuple[Identity, str, CodeOut]:
        with Client(timeout=5) as agent:
            alias = agent.new_alias(label="shop").address
            agent.send_email(alias, "Your code", "Your verification code is 246810")
            return agent.identity(), alias, agent.wait_for_code(from_contains="acme", timeout=10)

    found, alias, code = await asyncio.to_thread(blocking)
    assert found.project == "acme" and alias.endswith("@acme.test")
    assert code.value == "246810" and code.to == [alias]


async def test_client_errors_are_typed(service: Service, monkeypatch: pytest.MonkeyPatch) -> None:
    await create_project(service, "acme")
    await create_project(service, "other")
    reader = await new_token(service, "acme", ["read"])
    monkeypatch.delenv("AGENTID_TOKEN", raising=False)
    monkeypatch.delenv("AGENTID_PROJECT", raising=False)
    with pytest.raises(Unauthorized):
        AsyncClient(service.running.url)
    async with AsyncClient(service.running.url, reader) as agent:
        with pytest.raises(ValidationFailed):  # no project named anywhere
            await agent.identity()
        with pytest.raises(NotFound):
            await agent.identity("other")
        with pytest.raises(Forbidden):  # consuming needs the write scope
            await agent.wait_for_code(project="acme", timeout=0)
        with pytest.raises(ValidationFailed):
            await agent.codes("acme", site="co.uk")
    async with AsyncClient(service.running.url, ADMIN, project="acme") as operator:
        with pytest.raises(ValidationFailed):  # the server waits at most 300 s
            await operator.wait_for_code(timeout=301)
        with pytest.raises(Timeout):
            await operator.wait_for_code(site=["notion.so", "makenotion.com"], timeout=0)


TOTP_URI = "otpauth://totp/GitHub:agent?secret=JBSWY3DPEHPK3PXP&issuer=GitHub"


async def test_totp_and_escalations_through_both_clients(service: Service) -> None:
    """An agent's authenticator code and its escalation, answered by the operator, whose
    code ``wait_for_code`` (the sync client, in a thread) returns like any other."""
    await create_project(service, "acme")
    token = await new_token(service, "acme")
    url = service.running.url
    async with AsyncClient(url, token, project="acme") as agent, AsyncClient(url, ADMIN) as op:
        added = await agent.add_totp("github", TOTP_URI)
        assert isinstance(added, TotpOut) and (added.issuer, added.account) == ("GitHub", "agent")
        await agent.add_totp("bank", secret="JBSW Y3DP EHPK 3PXP", digits=8, algorithm="SHA256")
        assert [t.label for t in (await agent.list_totp()).totp] == ["bank", "github"]
        auth = parse_uri(TOTP_URI)
        before = code_at(auth, time.time())[0]
        got = await agent.totp_code("github")
        assert isinstance(got, TotpCode) and got.code in (before, code_at(auth, time.time())[0])
        assert await agent.delete_totp("bank") is None
        with pytest.raises(NotFound):
            await agent.totp_code("bank")

        asked = await agent.escalate("code", "Notion texts its code", service="notion.so")
        assert isinstance(asked, EscalationOut) and asked.status == "open"
        assert [e.id for e in (await op.open_escalations()).escalations] == [asked.id]

        def wait_in_a_thread() -> CodeOut:
            with Client(url, token, project="acme") as sync:
                return sync.wait_for_code(site="notion.so", timeout=20)

        waiting = asyncio.create_task(asyncio.to_thread(wait_in_a_thread))
        await listening(service, "acme")
        with pytest.raises(Forbidden):  # an agent never answers itself
            await agent.answer_escalation("acme", asked.id, "111111")
        answered = await op.answer_escalation("acme", asked.id, "735194")
        assert (answered.status, answered.value) == ("answered", "735194")
        code = await waiting
        assert (code.value, code.source.type, code.source.id) == ("735194", "escalation", asked.id)
        assert (await agent.escalation(asked.id, wait=1)).status == "answered"
        assert (await op.open_escalations()).escalations == []
        assert [e.id for e in (await agent.escalations()).escalations] == [asked.id]
