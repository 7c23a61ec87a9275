"""What the API tests do to a running agentid: make projects and tokens, send mail, wait."""

from __future__ import annotations

import asyncio
import smtplib
import time
from typing import Any

import httpx
from fastapi.routing import APIRoute

from agentid.app import create_app
from agentid.config import Settings
from tests.conftest import Service

JSON = {"Content-Type": "application/json"}


async def create_project(
    service: Service, project_id: str, domain: str | None = None, **extra: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {"id": project_id, **extra}
    if domain is not None:
        body["domain"] = domain
    r = await service.http.post("/projects", json=body)
    assert r.status_code == 201, r.text
    return dict(r.json())


async def provision(service: Service, project_id: str, **body: Any) -> dict[str, Any]:
    r = await service.http.post(f"/projects/{project_id}/email/provision", json=body or None)
    assert r.status_code == 200, r.text
    return dict(r.json())


async def hosted(service: Service, project_id: str, domain: str | None = None) -> dict[str, Any]:
    """A project whose email is provisioned (on ``domain``, or the shared one)."""
    await create_project(service, project_id, domain)
    return await provision(service, project_id)


async def new_token(service: Service, project_id: str, scopes: list[str] | None = None) -> str:
    body = {} if scopes is None else {"scopes": scopes}
    r = await service.http.post(f"/projects/{project_id}/tokens", json=body)
    assert r.status_code == 201, r.text
    return str(r.json()["token"])


async def new_alias(service: Service, project_id: str, **body: Any) -> str:
    r = await service.http.post(f"/projects/{project_id}/email/aliases", json=body)
    assert r.status_code == 201, r.text
    return str(r.json()["address"])


def message(
    to: str,
    subject: str = "Hello",
    body: str = "Just saying hello.",
    sender: str = "Shop <noreply@shop.example>",
    extra_headers: str = "",
) -> bytes:
    return (
        f"From: {sender}\r\nTo: {to}\r\nSubject: {subject}\r\n{extra_headers}\r\n{body}\r\n"
    ).encode()


def _sendmail(port: int, mail_from: str, rcpts: list[str], raw: bytes) -> dict[str, Any]:
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as smtp:
        return dict(smtp.sendmail(mail_from, rcpts, raw))


async def send(
    service: Service,
    rcpts: list[str] | str,
    raw: bytes | None = None,
    mail_from: str = "noreply@shop.example",
) -> None:
    """Send over SMTP (in a thread); returns once the service has said 250."""
    rcpts = [rcpts] if isinstance(rcpts, str) else rcpts
    raw = raw if raw is not None else message(rcpts[0])
    refused = await asyncio.to_thread(_sendmail, service.smtp_port, mail_from, rcpts, raw)
    assert refused == {}, refused


def _rcpt(port: int, address: str) -> tuple[int, bytes]:
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as smtp:
        smtp.ehlo()
        smtp.mail("noreply@shop.example")
        reply = smtp.rcpt(address)
        smtp.rset()
        return reply


async def smtp_rcpt(service: Service, address: str) -> tuple[int, bytes]:
    """The reply to RCPT TO:<address> (the transaction is reset afterwards)."""
    return await asyncio.to_thread(_rcpt, service.smtp_port, address)


async def deliver(
    service: Service,
    project_id: str,
    rcpts: list[str] | str,
    raw: bytes | None = None,
    mail_from: str = "noreply@shop.example",
) -> dict[str, Any]:
    """Send a message and return its inbox entry once it is parsed and listed."""
    rcpts = [rcpts] if isinstance(rcpts, str) else rcpts
    before = await newest_id(service, project_id)
    params: dict[str, Any] = {"wait": 10, "limit": 1}
    if before is not None:
        params["after"] = before
    waiter = asyncio.create_task(
        service.http.get(f"/projects/{project_id}/email/inbox", params=params)
    )
    await send(service, rcpts, raw, mail_from)
    r = await waiter
    assert r.status_code == 200, r.text
    messages = r.json()["messages"]
    assert messages, "the message did not show up in the inbox"
    return dict(messages[0])


async def newest_id(service: Service, project_id: str) -> str | None:
    r = await service.http.get(f"/projects/{project_id}/email/inbox", params={"limit": 1})
    assert r.status_code == 200, r.text
    messages = r.json()["messages"]
    return str(messages[0]["id"]) if messages else None


async def listening(service: Service, project_id: str, count: int = 1, timeout: float = 5) -> None:
    """Return once ``count`` long-polls or streams are waiting on ``project_id``."""
    bus = service.running.runtime.bus
    deadline = time.monotonic() + timeout
    while bus.listener_count(project_id) < count:
        assert time.monotonic() < deadline, f"no {count} listeners on {project_id}"
        await asyncio.sleep(0.005)


def assert_error(r: httpx.Response, status: int, code: str | None = None) -> dict[str, Any]:
    """A clean JSON error: the status, and ``{"error": {"code", "message"}}``."""
    assert r.status_code == status, f"{r.status_code} {r.text[:500]}"
    assert r.headers["content-type"].startswith("application/json"), r.headers
    body = r.json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message"}, body
    assert isinstance(body["error"]["message"], str)
    if code is not None:
        assert body["error"]["code"] == code, body
    return dict(body)


def app_routes(settings: Settings) -> list[tuple[str, str, APIRoute]]:
    """(method, path, route) of every API route the app serves, included routers flattened."""

    def walk(routes: list[Any], prefix: str) -> list[tuple[str, str, APIRoute]]:
        out: list[tuple[str, str, APIRoute]] = []
        for route in routes:
            if isinstance(route, APIRoute):
                out += [(m, prefix + route.path_format, route) for m in sorted(route.methods)]
            elif hasattr(route, "original_router"):  # FastAPI >= 0.16x keeps included routers
                context = getattr(route, "include_context", None)
                inner = prefix + (getattr(context, "prefix", "") or "")
                out += walk(list(route.original_router.routes), inner)
        return out

    found = walk(list(create_app(settings).routes), "")
    assert found, "no API routes found"
    return found
