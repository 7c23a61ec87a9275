"""The web page in a real browser (Debian's Chromium, headless, through Playwright): mail
arriving while the inbox is open, a hostile message that must neither run nor call out,
an escalation answered in the page ending an agent's wait, CSRF and sign-out. Each page
visited is checked at 360 px wide for horizontal scrolling; screenshots of the main pages
are kept (tests/web/chromium.py says where).

These run on SQLite only: the pages are the same on PostgreSQL, which the httpx tests of
this directory cover."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ADMIN
from tests.conftest import Service
from tests.service import create_project
from tests.service import deliver
from tests.service import listening
from tests.service import new_project
from tests.service import new_token
from tests.service import send
from tests.web.chromium import chromium
from tests.web.chromium import require_chromium
from tests.web.chromium import screenshot_dir
from tests.web.mail import hostile
from tests.web.mail import verification

NARROW = {"width": 360, "height": 780}
WIDE = {"width": 1280, "height": 860}
TALL = {"width": 1280, "height": 1500}  # a message, its HTML frame within the viewport


@pytest.fixture
def backend() -> str:
    require_chromium()
    return "sqlite"


@pytest.fixture
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return screenshot_dir(tmp_path_factory.getbasetemp())


async def fits(page: Any) -> None:
    """No horizontal scrolling at the page's width."""
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], (page.url, width)


async def sign_in(page: Any, url: str, token: str) -> None:
    await page.goto(url + "/ui/login")
    await fits(page)
    await page.fill("#token", token)
    await page.keyboard.press("Enter")  # the keyboard alone
    await page.wait_for_url("**/ui/projects**")


async def test_mail_appears_in_the_open_inbox_and_another_project_is_404(
    service: Service, shots: Path
) -> None:
    project = await new_project(service)
    await create_project(service, "other")
    url = service.running.url
    async with chromium() as browser:
        context = await browser.new_context(viewport=NARROW)
        page = await context.new_page()
        await sign_in(page, url, await new_token(service, project.id))
        await page.goto(f"{url}/ui/projects/{project.id}/inbox")
        await fits(page)
        await listening(service, project.id)  # the page's event stream is open
        await send(service, project.primary, verification(project.primary, "Sign in to Shop"))
        row = page.locator("#inbox-rows a", has_text="Sign in to Shop")
        await row.wait_for(timeout=10_000)  # pushed over the event stream: no reload
        await fits(page)
        await page.screenshot(path=shots / "inbox-360.png", full_page=True)
        await row.click()
        await page.wait_for_url("**/messages/**")
        assert "482913" in await page.locator(".code").first.inner_text()
        frame = await (await page.wait_for_selector("iframe.mail")).content_frame()
        await frame.wait_for_selector("text=482913")  # the HTML, inline image and all
        await fits(page)
        await page.screenshot(path=shots / "message-360.png", full_page=True)
        # headless Chromium paints a frame of another origin only inside the viewport
        await (await page.query_selector("iframe.mail")).scroll_into_view_if_needed()
        await page.screenshot(path=shots / "message-360-html.png")
        answer = await page.goto(f"{url}/ui/projects/other/inbox")
        assert answer is not None and answer.status == 404
        await fits(page)

        wide = await browser.new_context(viewport=WIDE)
        operator = await wide.new_page()
        await sign_in(operator, url, ADMIN)
        await operator.screenshot(path=shots / "projects.png", full_page=True)
        await operator.goto(f"{url}/ui/projects/{project.id}/inbox")
        await operator.screenshot(path=shots / "inbox.png", full_page=True)
        await operator.goto(f"{url}/ui/projects/{project.id}/codes")
        await operator.screenshot(path=shots / "codes.png", full_page=True)
        await operator.set_viewport_size(TALL)
        await operator.goto(f"{url}/ui/projects/{project.id}/inbox")
        await operator.click("#inbox-rows a")
        frame = await (await operator.wait_for_selector("iframe.mail")).content_frame()
        await frame.wait_for_selector("text=482913")
        await operator.screenshot(path=shots / "message.png")


async def test_a_hostile_message_neither_runs_nor_calls_out(service: Service, shots: Path) -> None:
    project = await new_project(service)
    entry = await deliver(service, project.id, project.primary, hostile(project.primary))
    url = service.running.url
    async with chromium() as browser:
        context = await browser.new_context(viewport=NARROW)
        page = await context.new_page()
        dialogs: list[str] = []
        requests: list[str] = []
        page.on("dialog", lambda d: (dialogs.append(d.message), asyncio.ensure_future(d.dismiss())))
        context.on("request", lambda r: requests.append(r.url))
        await sign_in(page, url, await new_token(service, project.id, ["read"]))
        await page.goto(f"{url}/ui/projects/{project.id}/messages/{entry['id']}")
        frame_element = await page.wait_for_selector("iframe.mail")
        frame = await frame_element.content_frame()
        assert frame is not None
        await frame.wait_for_load_state("load")
        assert "739204" in await frame.inner_text("body")
        await page.wait_for_load_state("networkidle")
        assert "739204" in await page.locator("pre.body").inner_text()  # the text is readable
        assert await page.title() == "<script>alert(1)</script> · agentid"  # as text
        await fits(page)
        await page.screenshot(path=shots / "hostile-360.png", full_page=True)
        assert dialogs == []
        elsewhere = [r for r in requests if not r.startswith(url + "/")]
        assert elsewhere == [], elsewhere
        assert any(r.startswith(f"{url}/ui/projects/{project.id}/messages/") for r in requests)


async def test_an_escalation_answered_in_the_page_ends_the_agents_wait(
    service: Service, shots: Path
) -> None:
    project = await new_project(service)
    url = service.running.url
    agent = service.client(await new_token(service, project.id))
    async with agent, chromium() as browser:
        r = await agent.post(
            f"/projects/{project.id}/escalations",
            json={"kind": "code", "service": "notion.so", "reason": "Notion texts its code"},
        )
        assert r.status_code == 201, r.text
        waiting = asyncio.create_task(
            agent.get(f"/projects/{project.id}/codes", params={"wait": 60, "consume": "true"})
        )
        page = await (await browser.new_context(viewport=WIDE)).new_page()
        await sign_in(page, url, ADMIN)
        await page.goto(f"{url}/ui/escalations")
        await page.screenshot(path=shots / "escalations.png", full_page=True)
        await page.fill("input[name=value]", "735194")
        await page.keyboard.press("Enter")
        await page.wait_for_url("**/ui/escalations")
        answer = await asyncio.wait_for(waiting, 10)
        assert [c["value"] for c in answer.json()["codes"]] == ["735194"]


async def test_csrf_and_a_signed_out_browser(service: Service) -> None:
    project = await new_project(service)
    url = service.running.url
    async with chromium() as browser:
        context = await browser.new_context(viewport=NARROW)
        page = await context.new_page()
        await sign_in(page, url, await new_token(service, project.id))
        aliases = f"{url}/ui/projects/{project.id}/aliases"
        forged = await context.request.post(aliases, form={"label": "forged"})
        assert forged.status == 403  # the session cookie, but not the page's token
        await page.goto(aliases)
        await page.click("text=Sign out")
        await page.wait_for_url("**/ui/login")
        await page.goto(f"{url}/ui/projects/{project.id}/inbox")
        assert page.url.endswith("/ui/login")
        stream = await context.request.get(f"{url}/ui/projects/{project.id}/events")
        assert stream.status == 401
    listed = await service.http.get(f"/projects/{project.id}/email/aliases")
    assert listed.json()["aliases"] == []
