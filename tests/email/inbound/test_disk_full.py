"""A full disk: what was accepted stays, is never flagged for it, and is digested (codes and
all) once space returns. SQLite on a small tmpfs, real parse worker processes."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import start_service
from tests.service import inbox
from tests.service import listed
from tests.service import new_project
from tests.service import send
from tests.service import simple_message

REQUIRE = os.environ.get("AGENTID_REQUIRE_EXTERNAL") == "1"


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    disk = tmp_path / "disk"
    disk.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=48m,mode=0700", "tmpfs", str(disk)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        reason = f"cannot mount a tmpfs (needs root): {done.stderr.strip()[:200]}"
        if REQUIRE:
            pytest.fail(reason)
        pytest.skip(reason)
    try:
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)


def fill(disk: Path, leave: int) -> Path:
    """Fill the file system, then free ``leave`` bytes."""
    filler = disk / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        for size in (1 << 20, 4096):
            block = b"\0" * size
            with contextlib.suppress(OSError):
                while True:
                    os.write(fd, block)
    finally:
        os.close(fd)
    os.truncate(filler, max(0, filler.stat().st_size - leave))
    return filler


async def test_digested_after_space_returns(small_disk: Path) -> None:
    async with start_service(small_disk / "data", parse_processes=1) as service:
        project = await new_project(service)
        body = "Your verification code is 739201.\r\n" + ("padding " * 50 + "\r\n") * 500
        filler = fill(small_disk, leave=400 * 1024)
        accepted: list[str] = []
        for _ in range(6):
            try:
                accepted += await send(
                    service, [project.primary], simple_message(project.primary, body=body)
                )
            except Exception as exc:  # 451 once even the spool cannot commit
                assert "451" in str(exc), exc
        assert accepted, "the spool committed nothing: leave more room"

        async def health_says_down() -> bool:
            r = await service.http.get("/healthz")
            return r.status_code == 503 and "parse-worker" in r.json()["down"]

        deadline = time.monotonic() + 20
        while not await health_says_down():
            assert time.monotonic() < deadline, "the full disk was never reported"
            await asyncio.sleep(0.1)
        flagged = [e for e in await inbox(service, project, limit=100) if e["parse_error"]]
        assert flagged == []  # a full disk is not the message's fault

        filler.unlink()
        entries = await listed(service, project, len(accepted), timeout=30)  # space is back
        assert sorted(e["id"] for e in entries) == sorted(accepted)
        assert not any(e["parse_error"] for e in entries)
        r = await service.http.get(f"/projects/{project.id}/codes", params={"limit": 100})
        assert [c["value"] for c in r.json()["codes"]] == ["739201"] * len(accepted)
        # Senders retry what got 451: it is accepted now, and every part reports up again.
        await send(service, [project.primary], simple_message(project.primary))
        deadline = time.monotonic() + 30
        while (await service.http.get("/healthz")).status_code != 200:
            assert time.monotonic() < deadline
            await asyncio.sleep(0.1)
