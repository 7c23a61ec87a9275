"""Data at rest: the data dir is the service user's alone, and a deleted message leaves no
trace of its body in the database files (SQLite: secure_delete, then a WAL TRUNCATE)."""

from __future__ import annotations

import asyncio
import os
import secrets
import stat
import time
from pathlib import Path

from tests.conftest import make_settings
from tests.conftest import start_service
from tests.service import deliver
from tests.service import hosted


async def test_data_dir_private_whatever_the_umask(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    (data / "left-over").write_text("from an older version")
    os.chmod(data / "left-over", 0o644)
    old = os.umask(0o022)
    try:
        async with start_service(data) as service:
            await hosted(service, "acme", "acme.test")
            await deliver(service, "acme", "agent@acme.test")
            assert stat.S_IMODE(data.stat().st_mode) == 0o700
            files = {p.name: stat.S_IMODE(p.stat().st_mode) for p in data.iterdir()}
            assert {"agentid.db", "agentid.db-wal", "agentid.db-shm"} <= set(files)
            dirs = {p.name for p in data.iterdir() if p.is_dir()}
            assert dirs == {"zones"}  # the default zone files (agentid.dns)
            assert all(files[name] == 0o700 for name in dirs), files
            assert all(mode == 0o600 for name, mode in files.items() if name not in dirs), files
    finally:
        os.umask(old)
    assert make_settings(data).data_dir == data


async def test_deleted_body_gone_from_the_files(tmp_path: Path) -> None:
    data = tmp_path / "data"
    marker = "MARKER-" + secrets.token_hex(12)
    async with start_service(data) as service:
        await hosted(service, "acme", "acme.test")
        raw = (
            f"From: a@shop.example\r\nTo: agent@acme.test\r\nSubject: s\r\n\r\n{marker}\r\n"
        ).encode()
        mid = (await deliver(service, "acme", "agent@acme.test", raw))["id"]
        files = [data / "agentid.db", data / "agentid.db-wal"]

        def marker_in_files() -> bool:
            return any(marker.encode() in f.read_bytes() for f in files if f.exists())

        assert marker_in_files()
        r = await service.http.delete(f"/projects/acme/email/messages/{mid}")
        assert r.status_code == 204
        deleted_at = time.monotonic()
        while marker_in_files():
            assert time.monotonic() - deleted_at < 5, "the body is still in the files"
            await asyncio.sleep(0.1)
