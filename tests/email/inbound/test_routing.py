"""Who the listener takes mail for: hosted domains only, live aliases, catch-all, limits."""

from __future__ import annotations

import asyncio
from datetime import UTC
from datetime import datetime
from datetime import timedelta

import pytest

from tests.conftest import Service
from tests.service import RawSMTP
from tests.service import inbox
from tests.service import new_alias
from tests.service import new_project
from tests.service import queued_ids
from tests.service import send
from tests.service import simple_message
from tests.service import wait_for

pytestmark = pytest.mark.asyncio(loop_scope="module")

OVERRIDES = {"max_recipients": 3}


async def rcpt(service: Service, address: str) -> tuple[int, str]:
    client = await RawSMTP.open(service.smtp_port)
    try:
        assert (await client.cmd("EHLO client.example"))[0] == 250
        assert (await client.cmd("MAIL FROM:<sender@example.org>"))[0] == 250
        return await client.cmd(f"RCPT TO:<{address}>")
    finally:
        await client.close()


@pytest.mark.parametrize(
    "address",
    [
        "victim@example.org",
        "someone@gmail.com",
        "x@sub.{domain}",
        "x@{domain}.evil.org",
        "x@{domain}@evil.org",
        "@{domain}:x@evil.org",
        "x%evil.org@evil.org",
    ],
)
async def test_no_open_relay(shared: Service, address: str) -> None:
    project = await new_project(shared)
    code, text = await rcpt(shared, address.format(domain=project.domain))
    # refused as a domain we do not host, or (aiosmtpd) as malformed before that
    assert (code, text[4:9]) in {(550, "5.7.1"), (553, "5.1.3")}, text
    if "@" not in address.format(domain=project.domain).rpartition("@")[0]:
        assert code == 550 and "5.7.1" in text, text


async def test_hosted_domain_is_case_insensitive(shared: Service) -> None:
    project = await new_project(shared, catch_all=False)
    code, text = await rcpt(shared, project.primary.upper())
    assert code == 250, text


async def test_unknown_local_part_needs_catch_all(shared: Service) -> None:
    project = await new_project(shared)
    code, text = await rcpt(shared, f"anything@{project.domain}")
    assert code == 250, text
    r = await shared.http.patch(f"/projects/{project.id}", json={"catch_all": False})
    assert r.status_code == 200, r.text
    code, text = await rcpt(shared, f"anything@{project.domain}")
    assert code == 550 and "5.1.1" in text, text
    alias = await new_alias(shared, project, label="kept")
    for address in (project.primary, alias):
        code, text = await rcpt(shared, address)
        assert code == 250, (address, text)


async def test_disabled_alias_refused_even_with_catch_all(shared: Service) -> None:
    project = await new_project(shared)
    alias = await new_alias(shared, project, label="old")
    assert (await rcpt(shared, alias))[0] == 250  # cached as live
    r = await shared.http.delete(f"/projects/{project.id}/email/aliases/{alias}")
    assert r.status_code == 200, r.text
    code, text = await rcpt(shared, alias)
    assert code == 550 and "5.1.1" in text, text
    code, text = await rcpt(shared, alias.upper())
    assert code == 550 and "5.1.1" in text, text
    assert (await rcpt(shared, f"other@{project.domain}"))[0] == 250


async def test_expired_alias_refused(shared: Service) -> None:
    project = await new_project(shared)
    past = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    expired = await new_alias(shared, project, local_part="gone", expires_at=past)
    code, text = await rcpt(shared, expired)
    assert code == 550 and "5.1.1" in text, text

    soon = datetime.now(UTC) + timedelta(seconds=3)  # time to create it and take one RCPT
    alias = await new_alias(shared, project, label="brief", expires_at=soon.isoformat())
    assert (await rcpt(shared, alias))[0] == 250
    await asyncio.sleep(max(0.0, (soon - datetime.now(UTC)).total_seconds()) + 0.05)
    code, text = await rcpt(shared, alias)
    assert code == 550 and "5.1.1" in text, text


async def test_alias_of_another_project_on_shared_lookup(shared: Service) -> None:
    """An alias belongs to one project; its address is refused nowhere else."""
    a, b = await new_project(shared), await new_project(shared)
    alias_a = await new_alias(shared, a, label="mine")
    assert (await rcpt(shared, alias_a))[0] == 250
    code, _ = await rcpt(shared, alias_a.replace(a.domain, b.domain))
    assert code == 250  # b's catch-all, a different address


async def test_too_many_recipients(shared: Service) -> None:
    project = await new_project(shared)
    client = await RawSMTP.open(shared.smtp_port)
    try:
        assert (await client.cmd("EHLO client.example"))[0] == 250
        assert (await client.cmd("MAIL FROM:<sender@example.org>"))[0] == 250
        for i in range(3):
            assert (await client.cmd(f"RCPT TO:<r{i}@{project.domain}>"))[0] == 250
        code, text = await client.cmd(f"RCPT TO:<r3@{project.domain}>")
        assert code == 452 and "4.5.3" in text, text
        assert (await client.cmd("DATA"))[0] == 354
        await client.write(simple_message(f"r0@{project.domain}") + b".\r\n")
        code, text = await client.reply()
        assert code == 250, text
    finally:
        await client.close()
    (mid,) = queued_ids(text)
    message = await wait_for(shared, project, mid)
    assert sorted(message["to"]) == [f"r{i}@{project.domain}" for i in range(3)]


async def test_refused_recipients_leave_the_rest(shared: Service) -> None:
    project = await new_project(shared, catch_all=False)
    client = await RawSMTP.open(shared.smtp_port)
    try:
        assert (await client.cmd("EHLO client.example"))[0] == 250
        assert (await client.cmd("MAIL FROM:<sender@example.org>"))[0] == 250
        assert (await client.cmd("RCPT TO:<nobody@elsewhere.org>"))[0] == 550
        assert (await client.cmd(f"RCPT TO:<nobody@{project.domain}>"))[0] == 550
        assert (await client.cmd(f"RCPT TO:<{project.primary}>"))[0] == 250
        assert (await client.cmd("DATA"))[0] == 354
        await client.write(simple_message(project.primary) + b".\r\n")
        code, text = await client.reply()
        assert code == 250, text
    finally:
        await client.close()
    (mid,) = queued_ids(text)
    message = await wait_for(shared, project, mid)
    assert message["to"] == [project.primary]


async def test_data_without_accepted_recipient(shared: Service) -> None:
    client = await RawSMTP.open(shared.smtp_port)
    try:
        assert (await client.cmd("EHLO client.example"))[0] == 250
        assert (await client.cmd("MAIL FROM:<sender@example.org>"))[0] == 250
        assert (await client.cmd("RCPT TO:<victim@example.org>"))[0] == 550
        code, _ = await client.cmd("DATA")
        assert code == 503
    finally:
        await client.close()


async def test_accepted_mail_is_readable(shared: Service) -> None:
    project = await new_project(shared)
    (mid,) = await send(shared, [project.primary], simple_message(project.primary))
    assert [m["id"] for m in await inbox(shared, project, wait=10)] == [mid]
