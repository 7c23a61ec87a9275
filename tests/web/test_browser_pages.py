"""Every main page of a well-stocked project (tests/web/stock.py) in a real browser (Debian's
Chromium, headless, through Playwright; one agentid and one browser for the module, on
SQLite): each reads at 360 px wide without horizontal scrolling, follows the system's dark
theme, and is saved as a screenshot (tests/web/chromium.py says where); the keyboard alone
reaches and works the main controls; a copy button puts its code on the clipboard."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from tests.conftest import ADMIN
from tests.conftest import Service
from tests.web.chromium import chromium
from tests.web.chromium import require_chromium
from tests.web.chromium import screenshot_dir
from tests.web.stock import EMAIL_CODE
from tests.web.stock import LINK
from tests.web.stock import SETTINGS
from tests.web.stock import SMS_CODE
from tests.web.stock import Stocked
from tests.webhooks.receiver import Receiver

pytestmark = pytest.mark.asyncio(loop_scope="module")

OVERRIDES = SETTINGS  # the module's agentid is started with them (tests/web/conftest.py)
NARROW = {"width": 360, "height": 780}
WIDE = {"width": 1280, "height": 860}
PNG = b"\x89PNG\r\n\x1a\n"
# at 1280 px: those tests/web/test_browser.py does not take (projects, inbox, codes, ...)
WIDE_SHOTS = ("project", "aliases", "sms", "outbox", "webhooks")
DARK_SHOTS = ("projects", "project", "codes", "message")
FOCUSED = """() => {
  const e = document.activeElement;
  if (!e || e === document.body) return "";
  const said = e.getAttribute("aria-label") || e.textContent.trim() || e.getAttribute("name");
  return e.tagName.toLowerCase() + ":" + (said || "").replace(/\\s+/g, " ");
}"""
COLOURS = """() => {
  const background = (e) => {  // the first ancestor's that is not transparent
    for (; e; e = e.parentElement) {
      const c = getComputedStyle(e).backgroundColor;
      if (c !== "rgba(0, 0, 0, 0)" && c !== "transparent") return c;
    }
    return "rgb(255, 255, 255)";
  };
  const found = {};
  for (const s of ["body", "main a", "main button", "table.cards th", ".badge", "code"]) {
    const e = document.querySelector(s);
    if (e) found[s] = [getComputedStyle(e).color, background(e)];
  }
  return found;
}"""


@pytest.fixture(scope="module")
def module_backend() -> str:
    require_chromium()
    return "sqlite"


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def browser() -> AsyncIterator[Any]:
    async with chromium() as running:
        yield running


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return screenshot_dir(tmp_path_factory.getbasetemp())


def main_pages(stocked: Stocked) -> dict[str, str]:
    """Every main page of the web page: its name (that of its screenshot) and its path."""
    project = f"/ui/projects/{stocked.id}"
    return {
        "projects": "/ui/projects", "project": project, "inbox": f"{project}/inbox",
        "message": f"{project}/messages/{stocked.message_id}",
        "message-link": f"{project}/messages/{stocked.link_message_id}",
        "codes": f"{project}/codes", "aliases": f"{project}/aliases", "sms": f"{project}/sms",
        "outbox": f"{project}/outbox", "escalations": f"{project}/escalations",
        "escalations-everywhere": "/ui/escalations", "webhooks": f"{project}/webhooks",
    }  # fmt: skip


async def signed_in_page(browser: Any, url: str, **context: Any) -> Any:
    """A page of a new browser context, signed in as the operator with the keyboard."""
    page = await (await browser.new_context(**context)).new_page()
    await page.goto(url + "/ui/login")
    assert await page.evaluate(FOCUSED) == "input:token"  # the token field has the focus
    await page.keyboard.type(ADMIN)
    await page.keyboard.press("Enter")
    await page.wait_for_url("**/ui/projects")
    return page


async def fits(page: Any) -> None:
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], (page.url, width)


async def tab_to(page: Any, selector: str, limit: int = 80) -> list[str]:
    """Press Tab until the element ``selector`` names has the focus; what had it on the
    way (``tag:label``)."""
    target = page.locator(selector)
    seen = []
    for _ in range(limit):
        await page.keyboard.press("Tab")
        seen.append(await page.evaluate(FOCUSED))
        if await target.evaluate("e => e === document.activeElement"):
            return seen
    raise AssertionError(f"Tab never reached {selector}: {seen}")


def saved(path: Path) -> None:
    assert path.read_bytes()[:8] == PNG and path.stat().st_size > 5000, path


async def test_every_main_page_reads_at_360_px_and_is_saved(
    shared: Service, stocked: Stocked, browser: Any, shots: Path
) -> None:
    url = shared.running.url
    page = await signed_in_page(browser, url, viewport=NARROW)
    for name, path in main_pages(stocked).items():
        answer = await page.goto(url + path)
        assert answer is not None and answer.status == 200, path
        await fits(page)  # document.documentElement.scrollWidth <= 360
        await page.screenshot(path=shots / f"{name}-360.png", full_page=True)
        saved(shots / f"{name}-360.png")
    await page.click("text=Sign out")
    await page.wait_for_url("**/ui/login")
    await fits(page)
    await page.screenshot(path=shots / "login-360.png")

    wide = await signed_in_page(browser, url, viewport=WIDE)
    for name in WIDE_SHOTS:
        await wide.goto(url + main_pages(stocked)[name])
        await wide.screenshot(path=shots / f"{name}.png", full_page=True)
        saved(shots / f"{name}.png")


def luminance(css: str) -> float:
    """WCAG's relative luminance of an ``rgb(...)`` colour."""
    channels = [int(v) / 255 for v in re.findall(r"\d+", css)[:3]]
    r, g, b = (c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(one: str, other: str) -> float:
    """WCAG's contrast ratio: 4.5 is the least for text (AA)."""
    high, low = sorted((luminance(one), luminance(other)), reverse=True)
    return (high + 0.05) / (low + 0.05)


async def test_the_dark_theme_follows_the_system_setting(
    shared: Service, stocked: Stocked, browser: Any, shots: Path
) -> None:
    url = shared.running.url
    light = await signed_in_page(browser, url, viewport=WIDE, color_scheme="light")
    dark = await signed_in_page(browser, url, viewport=WIDE, color_scheme="dark")
    for name, path in main_pages(stocked).items():
        await asyncio.gather(light.goto(url + path), dark.goto(url + path))
        lit, dim = [await p.evaluate(COLOURS) for p in (light, dark)]
        assert lit["body"][1] != dim["body"][1], name
        assert luminance(lit["body"][1]) > 0.9 and luminance(dim["body"][1]) < 0.1, name
        for theme in (lit, dim):  # text, links, buttons, headings, badges: all readable
            for part, (colour, behind) in theme.items():
                assert contrast(colour, behind) >= 4.5, (name, part, colour, behind)
        if name in DARK_SHOTS:
            await dark.screenshot(path=shots / f"{name}-dark.png", full_page=True)
            saved(shots / f"{name}-dark.png")


async def test_the_keyboard_alone_reaches_and_works_the_main_controls(
    shared: Service, stocked: Stocked, browser: Any, receiver: Receiver
) -> None:
    url = shared.running.url
    page = await signed_in_page(browser, url, viewport=WIDE)
    aliases = f"{url}/ui/projects/{stocked.id}/aliases"
    await page.goto(aliases)
    seen = await tab_to(page, f'button[aria-label="Disable {stocked.alias}"]')
    assert seen[0] == "a:Skip to content"
    for control in (
        "a:Projects", "a:Escalations", "button:Sign out", "a:Overview", "a:Inbox", "a:Codes",
        "a:SMS", "a:Outbox", "a:Webhooks", "input:label", "button:New alias",
    ):  # fmt: skip
        assert control in seen, (control, seen)
    outline = "getComputedStyle(document.activeElement).outlineStyle"
    assert await page.evaluate(outline) == "solid"  # where the focus is shows

    await page.goto(aliases)  # the skip link takes the focus past the navigation
    await page.keyboard.press("Tab")
    await page.keyboard.press("Enter")
    assert await page.evaluate("document.activeElement.id") == "main"

    await tab_to(page, "input[name=label]")
    await page.keyboard.type("kbd")
    await page.keyboard.press("Enter")  # submits the form
    await page.wait_for_url("**/aliases?made=*")
    made = await page.locator(".notice .code").inner_text()
    assert made.startswith("kbd-") and made.endswith("@" + stocked.domain)
    await tab_to(page, f'button[aria-label="Disable {made}"]')
    async with page.expect_navigation(url="**/aliases"):
        await page.keyboard.press("Enter")
    listed = (await shared.http.get(f"/projects/{stocked.id}/email/aliases")).json()["aliases"]
    assert {a["address"]: a["enabled"] for a in listed}[made] is False

    await page.goto(f"{url}/ui/projects/{stocked.id}/webhooks")
    before = len(receiver.requests)
    await tab_to(page, "button:has-text('Replay') >> nth=0")
    async with page.expect_navigation(url="**/webhooks"):
        await page.keyboard.press("Enter")
    await receiver.wait_for(before + 1)

    await page.goto(f"{url}/ui/projects/{stocked.id}/inbox")
    await tab_to(page, "#inbox-rows a >> text=Verify your account")
    await page.keyboard.press("Enter")
    await page.wait_for_url(f"**/messages/{stocked.message_id}")


async def test_a_copy_button_puts_its_code_on_the_clipboard(
    shared: Service, stocked: Stocked, browser: Any
) -> None:
    url = shared.running.url
    page = await signed_in_page(
        browser, url, viewport=NARROW, permissions=["clipboard-read", "clipboard-write"]
    )
    clipboard = "navigator.clipboard.readText()"
    await page.goto(f"{url}/ui/projects/{stocked.id}/codes")
    button = page.locator(f'button.copy[data-copy="{SMS_CODE}"]')
    await button.click()
    assert await page.evaluate(clipboard) == SMS_CODE
    assert await button.inner_text() == "Copied"  # and says so

    await tab_to(page, f'button.copy[data-copy="{EMAIL_CODE}"]')
    await page.keyboard.press("Enter")
    assert await page.evaluate(clipboard) == EMAIL_CODE
    await tab_to(page, f'button.copy[data-copy="{LINK}"]')
    await page.keyboard.press("Space")
    assert await page.evaluate(clipboard) == LINK

    await page.goto(f"{url}/ui/projects/{stocked.id}/messages/{stocked.message_id}")
    await page.evaluate("navigator.clipboard.writeText('')")
    await tab_to(page, f'button.copy[data-copy="{EMAIL_CODE}"]')
    await page.keyboard.press("Enter")
    assert await page.evaluate(clipboard) == EMAIL_CODE
