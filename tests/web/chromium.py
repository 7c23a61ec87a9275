"""Debian's Chromium driven by Playwright for Python, headless, for the web page's browser
tests. ``make test`` installs Debian's ``chromium`` first when it is missing (Playwright's
own browser download is never used); playwright is pinned to the release whose driver
speaks to that Chromium (pyproject.toml). Without either the test skips with the reason,
unless ``AGENTID_REQUIRE_EXTERNAL=1`` (CI), when it fails.

Screenshots go to ``AGENTID_SCREENSHOTS`` when set, else to ``screenshots/`` under the
test run's temporary directory (pytest's basetemp)."""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from tests.external import unavailable

CHROMIUM = shutil.which("chromium") or (
    "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None
)
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def _missing() -> str | None:
    if CHROMIUM is None:
        return "Chromium (Debian package chromium) is not installed: make test installs it"
    try:
        import playwright.async_api  # noqa: F401
    except ImportError:
        return "playwright (Python) is not installed: pip install -e '.[dev]'"
    return None


def require_chromium() -> str:
    reason = _missing()
    if reason is not None:
        unavailable(reason)
    assert CHROMIUM is not None
    return CHROMIUM


@asynccontextmanager
async def chromium() -> AsyncIterator[Any]:
    """A headless Chromium (a Playwright ``Browser``), closed afterwards."""
    binary = require_chromium()
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=binary, headless=True, args=ARGS)
        try:
            yield browser
        finally:
            await browser.close()


def screenshot_dir(basetemp: Path) -> Path:
    chosen = os.environ.get("AGENTID_SCREENSHOTS")
    where = Path(chosen) if chosen else basetemp / "screenshots"
    where.mkdir(parents=True, exist_ok=True)
    return where
