"""Idle memory of ``agentid serve`` (issue 6): the whole process tree, the server and
every helper, under 150 MB of PSS once started and a project is set up, as
``bench/rss.py`` measures it. A memory bound, so an absolute number; see the README's
benchmark table for where the memory goes."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from tests.conftest import ADMIN
from tests.processes import end_group
from tests.processes import serve
from tests.processes import tree_pss_mb

pytestmark = pytest.mark.asyncio(loop_scope="function")

IDLE_TREE_MB = 150


async def test_idle_tree_stays_under_150_mb(tmp_path: Path) -> None:
    server = await serve(tmp_path / "data", None, tmp_path / "serve.log")
    try:
        headers = {"Authorization": f"Bearer {ADMIN}"}
        async with httpx.AsyncClient(base_url=server.url, headers=headers, timeout=30) as http:
            r = await http.post("/projects", json={"id": "idle", "domain": "idle.test"})
            assert r.status_code == 201, r.text
            assert (await http.post("/projects/idle/email/provision")).status_code == 200
        await asyncio.sleep(2)  # the helpers are up; nothing else is going on
        idle = tree_pss_mb(server.proc.pid)
        assert idle < IDLE_TREE_MB, f"idle PSS of the process tree: {idle:.1f} MB"
    finally:
        end_group(server)
