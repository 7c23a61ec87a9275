"""agentid.client: ``Client`` and ``AsyncClient`` against the contract's ``FakeAPI`` transport
(fake_api.py), and against a real agentid (``Client`` in a thread: the service shares the loop).
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from agentid import errors
from agentid.cli_output import json_of
from agentid.client import AsyncClient
from agentid.client import Client
from agentid.codes.schemas import CodeList
from agentid.codes.schemas import CodeOut
from agentid.email.schemas import AliasList
from agentid.email.schemas import AliasOut
from agentid.email.schemas import Inbox
from agentid.email.schemas import InboxEntry
from agentid.email.schemas import MessageOut
from agentid.email.schemas import ProvisionOut
from agentid.errors import AgentIDError
from agentid.errors import Unreachable
from agentid.projects.schemas import ProjectList
from agentid.projects.schemas import ProjectOut
from agentid.projects.schemas import TokenInfo
from agentid.projects.schemas import TokenList
from agentid.projects.schemas import TokenOut
from tests.conftest import ADMIN as SERVICE_ADMIN
from tests.conftest import Service
from tests.email.inbound.authentication import verdict_of
from tests.fake_api import ADMIN
from tests.fake_api import BASE
from tests.fake_api import RAW
from tests.fake_api import FakeAPI
from tests.fake_api import closed_port
from tests.service import listening
from tests.service import message
from tests.service import new_token
from tests.service import send

KINDS = pytest.mark.parametrize("kind", ["Client", "AsyncClient"])


async def call(
    kind: str,
    url: str,
    token: str,
    name: str,
    *args: Any,
    transport: httpx.MockTransport | None = None,
    **kwargs: Any,
) -> Any:
    """``name(*args, **kwargs)`` through a fresh ``Client`` (in a thread) or ``AsyncClient``."""
    if kind == "Client":

        def blocking() -> Any:
            with Client(url, token, transport=transport, timeout=5) as client:
                return getattr(client, name)(*args, **kwargs)

        return await asyncio.to_thread(blocking)
    async with AsyncClient(url, token, transport=transport, timeout=5) as client:
        return await getattr(client, name)(*args, **kwargs)


async def failure(
    kind: str, url: str, token: str, name: str, *args: Any, **kw: Any
) -> AgentIDError:
    with pytest.raises(AgentIDError) as info:
        await call(kind, url, token, name, *args, **kw)
    return info.value


@pytest.fixture
def api() -> FakeAPI:
    return FakeAPI()


@pytest.fixture
def client(api: FakeAPI) -> Client:
    return Client(BASE, ADMIN, transport=api.transport())


# -- against the contract -------------------------------------------------------------------


def test_project_alias_and_inbox_round_trip(api: FakeAPI, client: Client) -> None:
    project = client.create_project("acme", domain="acme.test")
    assert isinstance(project, ProjectOut)
    assert project.id == "acme" and project.domain == "acme.test"
    assert [p.id for p in client.list_projects().projects] == ["acme"]
    assert client.get_project("acme").id == "acme"
    provisioned = client.provision_email("acme")
    assert provisioned.dns_records[0].type == "MX"
    alias = client.new_alias("acme", label="signup")
    assert alias.address == "signup-k3f9x2@acme.test"
    assert client.list_aliases("acme").aliases == [alias]
    mid = api.deliver("acme", to=alias.address)
    listed = client.inbox("acme", to=alias.address, from_="a@shop.test", unread=True, limit=5)
    assert [m.id for m in listed.messages] == [mid]
    sent = api.requests[-1].url.params
    assert sent["from"] == "a@shop.test" and sent["unread"] == "true" and sent["limit"] == "5"
    assert "subject" not in sent
    assert client.message("acme", mid).text == "Code: 481516\n"
    assert client.raw("acme", mid) == RAW
    assert client.mark_read("acme", mid).unread is False
    assert client.delete_message("acme", mid) is None
    assert client.inbox("acme").messages == []
    assert client.delete_alias("acme", alias.address) is None
    assert api.requests[-1].url.raw_path == b"/projects/acme/email/aliases/signup-k3f9x2@acme.test"
    assert client.list_aliases("acme").aliases == []


def test_codes_sends_filters_and_consumes(api: FakeAPI, client: Client) -> None:
    client.create_project("acme")
    api.deliver("acme", "111111")
    first = client.codes("acme", unused=True, consume=True, limit=1, channel="email")
    assert isinstance(first, CodeList) and isinstance(first.codes[0], CodeOut)
    assert [c.value for c in first.codes] == ["111111"]
    assert client.codes("acme", unused=True, consume=True, limit=1).codes == []
    params = api.requests[-1].url.params
    assert (params["unused"], params["consume"], params["limit"]) == ("true", "true", "1")


def test_wait_stretches_the_read_timeout(api: FakeAPI, client: Client) -> None:
    client.create_project("acme")
    client.codes("acme", wait=60)
    assert api.requests[-1].extensions["timeout"]["read"] == 70
    assert api.requests[-1].url.params["wait"] == "60"
    client.inbox("acme")
    assert api.requests[-1].extensions["timeout"]["read"] == 30


async def test_async_client_wait_stretches_the_read_timeout(api: FakeAPI, client: Client) -> None:
    client.create_project("acme")
    async with AsyncClient(BASE, ADMIN, transport=api.transport()) as aclient:
        await aclient.inbox("acme", wait=12.5)
        assert api.requests[-1].extensions["timeout"]["read"] == 22.5
        assert api.requests[-1].url.params["wait"] == "12.5"
        await aclient.codes("acme", wait=60)
        assert api.requests[-1].extensions["timeout"]["read"] == 70
        await aclient.get_project("acme")
        assert api.requests[-1].extensions["timeout"]["read"] == 30


async def test_both_clients_return_the_same_models(api: FakeAPI, client: Client) -> None:
    client.create_project("acme", domain="acme.test")
    client.provision_email("acme")
    client.new_alias("acme", label="signup")
    mid = api.deliver("acme")
    async with AsyncClient(BASE, ADMIN, transport=api.transport()) as aclient:
        assert await aclient.get_project("acme") == client.get_project("acme")
        assert await aclient.list_projects() == client.list_projects()
        assert await aclient.list_aliases("acme") == client.list_aliases("acme")
        assert await aclient.inbox("acme") == client.inbox("acme")
        assert await aclient.message("acme", mid) == client.message("acme", mid)
        assert await aclient.raw("acme", mid) == client.raw("acme", mid) == RAW
        found = await aclient.codes("acme", consume=True)
        assert [c.value for c in found.codes] == ["481516"]
        assert client.codes("acme", unused=True).codes == []


def test_lists_send_limit_and_before_only_when_given(api: FakeAPI, client: Client) -> None:
    """The project and alias lists page like the others; the models take their ``next``."""
    for pid in ("acme", "beta", "gamma"):
        client.create_project(pid)
    client.provision_email("acme")
    a, b, _ = [client.new_alias("acme", label=label).address for label in ("a", "b", "c")]
    assert [p.id for p in client.list_projects().projects] == ["acme", "beta", "gamma"]
    assert dict(api.requests[-1].url.params) == {}
    assert [p.id for p in client.list_projects(limit=2).projects] == ["acme", "beta"]
    assert dict(api.requests[-1].url.params) == {"limit": "2"}
    assert [p.id for p in client.list_projects(before="beta").projects] == ["gamma"]
    assert dict(api.requests[-1].url.params) == {"before": "beta"}
    page = client.list_aliases("acme", limit=1, before=a)
    assert isinstance(page, AliasList) and [alias.address for alias in page.aliases] == [b]
    assert dict(api.requests[-1].url.params) == {"limit": "1", "before": a}
    client.list_aliases("acme")
    assert dict(api.requests[-1].url.params) == {}


def test_token_pages(api: FakeAPI, client: Client) -> None:
    client.create_project("acme")
    made = [client.create_token("acme", name=f"t{i}") for i in range(3)]
    first = client.list_tokens("acme", limit=2)
    assert isinstance(first, TokenList) and first.next is not None
    rest = client.list_tokens("acme", limit=2, before=first.next)
    assert rest.next is None
    listed = [t.name for t in first.tokens + rest.tokens]
    assert listed == [t.name for t in reversed(made)]  # newest first


def test_project_tokens_scopes_and_isolation(api: FakeAPI, client: Client) -> None:
    client.create_project("acme")
    client.create_project("other")
    reader = client.create_token("acme", scopes=["read"]).token
    as_reader = Client(BASE, reader, transport=api.transport())
    assert as_reader.inbox("acme").messages == []
    with pytest.raises(errors.Forbidden):
        as_reader.new_alias("acme", label="x")
    with pytest.raises(errors.NotFound):
        as_reader.get_project("other")
    assert [p.id for p in as_reader.list_projects().projects] == ["acme"]
    with pytest.raises(errors.Forbidden):
        as_reader.create_project("mine")


@pytest.mark.parametrize(
    ("call_", "expected"),
    [
        (lambda c: Client(BASE, "wrong", transport=c).list_projects(), errors.Unauthorized),
        (lambda c: Client(BASE, ADMIN, transport=c).get_project("nope"), errors.NotFound),
    ],
)
def test_api_errors_become_the_error_tree(api: FakeAPI, call_: Any, expected: type) -> None:
    with pytest.raises(expected) as info:
        call_(api.transport())
    assert info.value.message


def test_conflict(client: Client) -> None:
    client.create_project("acme")
    with pytest.raises(errors.Conflict, match="already exists"):
        client.create_project("acme")


@KINDS
async def test_body_outside_the_contract_still_gives_an_error(kind: str) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(500, text="Internal Server Error")

    transport = httpx.MockTransport(handler)
    err = await failure(kind, BASE, ADMIN, "list_projects", transport=transport)
    assert err.status == 500 and "HTTP 500" in err.message


@KINDS
@pytest.mark.parametrize(
    "answer",
    [{"json": {"projects": [{"id": "acme"}]}}, {"text": "<html>a proxy's page</html>"}],
)
async def test_an_answer_that_is_not_the_model_is_bad_response(
    kind: str, answer: dict[str, Any]
) -> None:
    transport = httpx.MockTransport(lambda request: httpx.Response(200, **answer))
    err = await failure(kind, BASE, ADMIN, "list_projects", transport=transport)
    assert (err.status, err.code) == (502, "bad_response")
    assert err.message.startswith("GET /projects: the answer is not a ProjectList")


@KINDS
async def test_unreachable_server_is_one_clear_error(kind: str) -> None:
    url = f"http://127.0.0.1:{closed_port()}"
    err = await failure(kind, url, ADMIN, "list_projects")
    assert isinstance(err, Unreachable) and "not reachable" in err.message
    assert url in err.message and err.code == "unreachable"


@KINDS
async def test_connect_error_from_any_transport_is_unreachable(kind: str) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    transport = httpx.MockTransport(handler)
    assert isinstance(
        await failure(kind, BASE, ADMIN, "inbox", "acme", transport=transport), Unreachable
    )


@KINDS
async def test_a_read_timeout_is_504(kind: str) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("no answer", request=request)

    transport = httpx.MockTransport(handler)
    err = await failure(kind, BASE, ADMIN, "codes", "acme", wait=1, transport=transport)
    assert (err.status, err.code) == (504, "timeout")


# -- against a real agentid -----------------------------------------------------------------


async def test_async_client_against_the_service(service: Service) -> None:
    async with AsyncClient(service.running.url, SERVICE_ADMIN) as client:
        project = await client.create_project("acme", domain="acme.test")
        assert isinstance(project, ProjectOut) and project.domain == "acme.test"
        assert (await client.update_project("acme", retention_days=7)).retention_days == 7
        listed = await client.list_projects()
        assert isinstance(listed, ProjectList) and [p.id for p in listed.projects] == ["acme"]
        provisioned = await client.provision_email("acme")
        assert isinstance(provisioned, ProvisionOut) and provisioned.address == "agent@acme.test"
        alias = await client.new_alias("acme", label="signup")
        assert isinstance(alias, AliasOut) and alias.enabled and alias.label == "signup"
        assert alias in (await client.list_aliases("acme")).aliases

        # A long poll: the inbox answers once the message arrives.
        waiting = asyncio.create_task(client.inbox("acme", to=alias.address, wait=20))
        await listening(service, "acme")
        mail = message(alias.address, "Your code", "Your code is 482913.", "Shop <a@shop.test>")
        await send(service, alias.address, mail)
        page = await waiting
        assert isinstance(page, Inbox)
        (entry,) = page.messages
        assert isinstance(entry, InboxEntry) and entry.to == [alias.address]
        await verdict_of(service, "acme", entry.id)  # the message, and its codes, settled
        shown = await client.message("acme", entry.id)
        assert isinstance(shown, MessageOut) and shown.from_ == entry.from_
        assert b"Your code is 482913." in await client.raw("acme", entry.id)
        read = await client.mark_read("acme", entry.id)
        assert isinstance(read, MessageOut) and read.unread is False

        # What --json prints is what the API sent.
        for model, path in [
            (read, f"/projects/acme/email/messages/{entry.id}"),
            (await client.inbox("acme"), "/projects/acme/email/inbox"),
            (await client.get_project("acme"), "/projects/acme"),
            (await client.list_aliases("acme"), "/projects/acme/email/aliases"),
            (await client.codes("acme"), "/projects/acme/codes"),
        ]:
            assert json_of(model) == (await service.http.get(path)).json(), path

        token = await client.create_token("acme", scopes=["read"], name="reader")
        assert isinstance(token, TokenOut) and token.scopes == ["read"]
        tokens = await client.list_tokens("acme")
        assert [t.id for t in tokens.tokens] == [token.id]
        assert isinstance(tokens.tokens[0], TokenInfo)
        assert await client.revoke_token("acme", token.id) is None
        assert await client.delete_message("acme", entry.id) is None
        assert await client.delete_alias("acme", alias.address) is None
        assert (await client.inbox("acme")).messages == []


async def test_async_client_long_polls_codes(service: Service) -> None:
    async with AsyncClient(service.running.url, SERVICE_ADMIN) as client:
        await client.create_project("acme", domain="acme.test")
        address = (await client.provision_email("acme")).address
        waiting = asyncio.create_task(
            client.codes("acme", unused=True, consume=True, limit=1, wait=20)
        )
        await listening(service, "acme")
        assert not waiting.done()
        await send(service, address, message(address, "Verify", "Your code is 271828."))
        found = await waiting
        assert isinstance(found, CodeList) and [c.value for c in found.codes] == ["271828"]
        assert found.codes[0].from_ == "noreply@shop.example"
        again = await client.codes("acme", unused=True, consume=True, limit=1, wait=0.2)
        assert again.codes == []


async def test_both_clients_map_the_service_errors_alike(service: Service) -> None:
    url = service.running.url
    await service.http.post("/projects", json={"id": "acme"})
    await service.http.post("/projects/acme/email/provision")
    reader = await new_token(service, "acme", ["read"])
    cases: list[tuple[str, str, tuple[Any, ...], dict[str, Any], type[AgentIDError]]] = [
        (SERVICE_ADMIN, "get_project", ("nope",), {}, errors.NotFound),
        (SERVICE_ADMIN, "create_project", ("acme",), {}, errors.Conflict),
        ("wrong-token", "list_projects", (), {}, errors.Unauthorized),
        (reader, "new_alias", ("acme",), {"label": "x"}, errors.Forbidden),
        (reader, "create_token", ("acme",), {}, errors.Forbidden),
        (SERVICE_ADMIN, "new_alias", ("acme",), {"label": "Not A Label!"}, errors.ValidationFailed),
        (SERVICE_ADMIN, "inbox", ("acme",), {"limit": 0}, errors.ValidationFailed),
    ]
    for token, name, args, kwargs, expected in cases:
        sync, async_ = [
            await failure(kind, url, token, name, *args, **kwargs)
            for kind in ("Client", "AsyncClient")
        ]
        assert type(sync) is type(async_) is expected, (name, sync, async_)
        assert sync.message == async_.message and sync.message, name
        assert sync.status == async_.status == expected.status, name
