"""The MCP server with the SDK's own client: ``agentid mcp`` over stdio, and /mcp on a
running agentid over streamable HTTP. List the tools, make an alias, mail it a code over
SMTP, and ``wait_for_code`` gives the code's value as a structured field."""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import httpx2
from mcp.client.session import ClientSession
from mcp.client.stdio import StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client

from agentid.codes.totp import code_at
from agentid.codes.totp import parse_uri
from tests.conftest import ADMIN
from tests.conftest import Service
from tests.service import assert_error
from tests.service import create_project
from tests.service import hosted
from tests.service import listening
from tests.service import message
from tests.service import new_token
from tests.service import send

AGENTID = Path(sys.executable).parent / "agentid"
TOOLS = {
    "get_identity",
    "new_alias",
    "list_inbox",
    "read_message",
    "wait_for_message",
    "wait_for_code",
    "send_email",
    "list_sms",
    "totp_code",
    "escalate",
}


@asynccontextmanager
async def over_stdio(service: Service, token: str, **env: str) -> AsyncIterator[ClientSession]:
    params = StdioServerParameters(
        command=str(AGENTID),
        args=["mcp"],
        env={
            "AGENTID_URL": service.running.url,
            "AGENTID_TOKEN": token,
            "PYTHONPATH": os.environ.get("PYTHONPATH", ""),
            **env,
        },
    )
    async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        yield session


@asynccontextmanager
async def over_http(
    service: Service, token: str, headers: dict[str, str] | None = None, path: str = "/mcp"
) -> AsyncIterator[ClientSession]:
    auth = {"Authorization": f"Bearer {token}", **(headers or {})}
    url = service.running.url + path
    async with (
        httpx2.AsyncClient(headers=auth, timeout=30) as http,
        streamable_http_client(url, http_client=http) as (read, write),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        yield session


async def structured(session: ClientSession, tool: str, **arguments: Any) -> dict[str, Any]:
    result = await session.call_tool(tool, arguments)
    assert not result.is_error, result.content
    assert isinstance(result.structured_content, dict), result
    return result.structured_content


async def sign_up(service: Service, session: ClientSession) -> None:
    listed = await session.list_tools()
    assert {t.name for t in listed.tools} == TOOLS
    for tool in listed.tools:
        assert tool.description and tool.input_schema["type"] == "object"
    schema = next(t for t in listed.tools if t.name == "wait_for_code").input_schema
    assert {"site", "timeout", "since", "channel", "from_contains"} <= set(schema["properties"])

    me = await structured(session, "get_identity")
    assert me["email"] == "agent@acme.test" and "constitution" in me
    alias = (await structured(session, "new_alias", label="notion"))["address"]
    assert alias.startswith("notion-")

    waiting = asyncio.create_task(
        structured(session, "wait_for_code", site=["notion.so"], timeout=20)
    )
    await listening(service, "acme")  # the tool's long poll is waiting on the service
    body = "Your Notion sign-in code is 735194. It expires in 10 minutes."
    await send(service, alias, message(alias, "Your code", body, "Notion <notify@notion.so>"))
    got = await asyncio.wait_for(waiting, 30)
    assert got["found"] is True and got["code"] == "735194"
    assert got["kind"] == "code" and "notify@notion.so" in got["sender"]

    again = await structured(session, "wait_for_code", site=["notion.so"], timeout=0.5)
    assert again["found"] is False and again["code"] is None
    assert [s["reason"] for s in again["skipped"]] == ["used"]

    inbox = await structured(session, "list_inbox", to=alias)
    (entry,) = inbox["messages"]
    shown = await structured(session, "read_message", id=entry["id"])
    assert "735194" in shown["text"]


async def test_mcp_over_stdio(service: Service) -> None:
    await hosted(service, "acme", "acme.test")
    token = await new_token(service, "acme")
    async with over_stdio(service, token) as session:  # the project: the token's own
        await sign_up(service, session)
        old = "2000-01-01T00:00:00Z"
        found = await structured(session, "wait_for_message", since=old, timeout=1)
        assert found["found"] is True and found["message"]["subject"] == "Your code"
        none = await structured(session, "wait_for_message", subject="nothing", timeout=0.2)
        assert none == {"found": False, "message": None}
        bad = await session.call_tool("wait_for_code", {"timeout": 301})
        assert bad.is_error


async def test_mcp_over_http(service: Service) -> None:
    await hosted(service, "acme", "acme.test")
    token = await new_token(service, "acme")
    async with over_http(service, token) as session:
        await sign_up(service, session)
        sent = await structured(
            session, "send_email", to=["agent@acme.test"], subject="note", text="hello"
        )
        assert sent["id"]
        waited = await structured(session, "wait_for_message", subject="note", timeout=10)
        assert waited["found"] is True and waited["message"]["subject"] == "note"


async def test_mcp_with_the_operators_token_names_the_project(service: Service) -> None:
    await hosted(service, "acme", "acme.test")
    async with over_http(service, ADMIN, {"X-Agentid-Project": "acme"}) as session:
        assert (await structured(session, "get_identity"))["project"] == "acme"
    async with over_http(service, ADMIN, {"X-Agentid-Project": "ghost"}) as session:
        missing = await session.call_tool("get_identity", {})
        assert missing.is_error and "not_found" in str(missing.content)
    async with over_http(service, ADMIN, path="/mcp/acme") as session:
        assert (await structured(session, "get_identity"))["project"] == "acme"
    async with over_stdio(service, ADMIN, AGENTID_PROJECT="acme") as session:
        assert (await structured(session, "get_identity"))["project"] == "acme"


async def test_mcp_list_sms_over_http(service: Service) -> None:
    await hosted(service, "acme", "acme.test")
    made = await service.http.post("/projects/acme/phone/provision", json={"area_code": "415"})
    assert made.status_code == 201, made.text
    number = made.json()["number"]
    async with over_http(service, ADMIN, path="/mcp/acme") as session:
        listed = await session.list_tools()
        schema = next(t for t in listed.tools if t.name == "list_sms").input_schema
        assert {"wait", "contains", "from_contains", "since", "limit"} <= set(schema["properties"])
        assert await structured(session, "list_sms") == {"messages": []}
        assert (await structured(session, "list_sms", wait=0.2))["messages"] == []

        waiting = asyncio.create_task(structured(session, "list_sms", contains="code", wait=20))
        await listening(service, "acme")  # the tool's long poll is waiting on the service
        sms = {"to": number, "from": "+15005550006", "body": "Your Acme code is 402913"}
        injected = await service.http.post("/sandbox/sms", json=sms)
        assert injected.status_code in (200, 201), injected.text
        (got,) = (await asyncio.wait_for(waiting, 30))["messages"]
        assert got["id"] == injected.json()["id"] and got["body"] == sms["body"]
        assert got["from"] == "+15005550006" and got["to"] == number
        none = await structured(session, "list_sms", from_contains="+1999", wait=0.2)
        assert none == {"messages": []}
        assert (await session.call_tool("list_sms", {"wait": 301})).is_error


async def test_mcp_totp_code_and_escalate_over_http(service: Service) -> None:
    await create_project(service, "acme")
    uri = "otpauth://totp/GitHub:agent?secret=JBSWY3DPEHPK3PXP&issuer=GitHub"
    r = await service.http.post("/projects/acme/totp", json={"label": "github", "uri": uri})
    assert r.status_code == 201, r.text
    token = await new_token(service, "acme")
    async with over_http(service, token) as session:
        listed = {t.name: t for t in (await session.list_tools()).tools}
        schema = listed["escalate"].input_schema
        assert {"kind", "reason", "service", "expires_in"} <= set(schema["properties"])
        assert set(schema["required"]) == {"kind", "reason"}
        before = code_at(parse_uri(uri), time.time())[0]
        got = await structured(session, "totp_code", label="github")
        assert got["code"] in (before, code_at(parse_uri(uri), time.time())[0])
        assert 1 <= got["valid_for_seconds"] <= 30
        missing = await session.call_tool("totp_code", {"label": "nope"})
        assert missing.is_error and "not_found" in str(missing.content)

        asked = await structured(
            session, "escalate", kind="code", reason="texted to a phone I lack", service="x.com"
        )
        assert (asked["status"], asked["project_id"], asked["service"]) == ("open", "acme", "x.com")
        assert (await session.call_tool("escalate", {"kind": "sms", "reason": "x"})).is_error
        waiting = asyncio.create_task(
            structured(session, "wait_for_code", site=["x.com"], timeout=20)
        )
        await listening(service, "acme")
        path = f"/projects/acme/escalations/{asked['id']}/answer"
        assert (await service.http.post(path, json={"value": "905521"})).status_code == 200
        found = await asyncio.wait_for(waiting, 30)
        assert found["found"] is True and found["code"] == "905521"
        assert found["message_id"] == asked["id"]


async def test_mcp_http_refuses_what_the_api_refuses(service: Service) -> None:
    await create_project(service, "acme")
    await create_project(service, "other")
    token = await new_token(service, "acme", ["read"])
    init = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}
    async with httpx.AsyncClient(base_url=service.running.url) as anonymous:
        assert_error(await anonymous.post("/mcp", json=init), 401)
        bad = {"Authorization": "Bearer nope"}
        assert_error(await anonymous.post("/mcp", json=init, headers=bad), 401)
    assert_error(await service.http.post("/mcp", json=init), 400, "bad_request")  # no project
    named = {"X-Agentid-Project": "../x"}
    assert_error(await service.http.post("/mcp", json=init, headers=named), 404)
    assert_error(await service.http.post("/mcp/a%20b", json=init), 404)  # not an id
    both = {"X-Agentid-Project": "other"}
    assert_error(await service.http.post("/mcp/acme", json=init, headers=both), 400)
    async with service.client(token) as reader:
        other = {"X-Agentid-Project": "other"}
        assert_error(await reader.post("/mcp", json=init, headers=other), 404)
        assert_error(await reader.post("/mcp/other", json=init), 404)
    async with over_http(service, token) as session:  # read scope: no alias
        refused = await session.call_tool("new_alias", {"label": "x"})
        assert refused.is_error and "forbidden" in str(refused.content)


async def test_stdio_with_the_operators_token_and_no_project_stops(service: Service) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AGENTID_")}
    env.update(AGENTID_URL=service.running.url, AGENTID_TOKEN=ADMIN)
    proc = await asyncio.create_subprocess_exec(
        str(AGENTID), "mcp", env=env, stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(b""), 30)
    assert proc.returncode == 1 and out == b""
    assert err.decode().startswith("error: ") and "AGENTID_PROJECT" in err.decode()


def test_the_sdk_is_not_loaded_when_the_service_starts() -> None:
    code = (
        "import sys; from agentid.app import create_app; from agentid.cli import app; "
        "from tests.conftest import make_settings; import pathlib, tempfile; "
        "create_app(make_settings(pathlib.Path(tempfile.mkdtemp()))); "
        "print(sorted(m for m in sys.modules if m == 'mcp' or m.startswith('mcp.')))"
    )
    import subprocess

    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True,
        cwd=Path(__file__).resolve().parents[2],
    )  # fmt: skip
    assert done.stdout.strip() == "[]", done.stdout


async def test_mcp_http_can_be_left_out(tmp_path: Path) -> None:
    from tests.conftest import start_service

    async with start_service(tmp_path / "data", mcp_http=False) as service:
        init = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}
        assert_error(await service.http.post("/mcp", json=init), 404)
