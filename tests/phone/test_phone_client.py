"""The Python client's phone methods against a running agentid on the sandbox (SQLite)."""

from __future__ import annotations

import pytest

from agentid.client import AsyncClient
from agentid.errors import Conflict
from agentid.errors import NotFound
from tests.conftest import ADMIN
from tests.conftest import Service
from tests.service import create_project


@pytest.fixture
def backend() -> str:
    return "sqlite"


async def test_client_phone_calls(service: Service) -> None:
    await create_project(service, "acme")
    async with AsyncClient(service.running.url, ADMIN) as client:
        number = await client.provision_phone("acme", area_code="212", type="local")
        assert number.number.startswith("+1212555") and number.provider == "sandbox"
        with pytest.raises(Conflict):
            await client.provision_phone("acme")
        assert (await client.keep_phone("acme")).keep is True
        sms = await client.inject_sms(number.number, "+15005550006", "Your code is 102938")
        page = await client.sms("acme", contains="code", wait=1)
        assert [m.id for m in page.messages] == [sms.id]
        async with AsyncClient(service.running.url, ADMIN, project="acme") as agent:
            assert [m.id for m in (await agent.sms(wait=1)).messages] == [sms.id]
        detail = await client.sms_message("acme", sms.id)
        assert ["Body", "Your code is 102938"] in detail.params
        codes = await client.codes("acme", channel="sms", consume=True)
        assert [c.value for c in codes.codes] == ["102938"] and codes.notices == []
        made = await client.create_forwarder("acme", "+447700900123", label="ops")
        assert made.secret.startswith("whsec_")
        assert [f.id for f in (await client.list_forwarders("acme")).forwarders] == [made.id]
        await client.revoke_forwarder("acme", made.id)
        assert (await client.collect_phone("acme", 1, dry_run=True)).numbers == []
        released = await client.release_phone("acme")
        assert released.status == "released"
        with pytest.raises(NotFound):
            await client.phone("acme")
