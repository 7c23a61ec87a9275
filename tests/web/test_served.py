"""Where the web page lives and what shows it: ``agentid serve`` (a real process) serves
it on the API's own port, from templates and the package's own static files (nothing
built); ``AGENTID_UI=false`` leaves it out; ``docs/ui.png`` is a real screenshot of it,
shown in the README."""

from __future__ import annotations

import struct
import zlib
from collections import Counter
from pathlib import Path

import httpx

from tests.conftest import ADMIN
from tests.conftest import start_service
from tests.processes import end_group
from tests.processes import serve
from tests.web.pages import csrf_of

ROOT = Path(__file__).resolve().parents[2]
STATIC = ROOT / "src" / "agentid" / "web" / "static"


async def test_agentid_serve_serves_the_page_on_the_api_port(tmp_path: Path) -> None:
    process = await serve(tmp_path / "data", None, tmp_path / "serve.log")
    try:
        async with httpx.AsyncClient(base_url=process.url, timeout=30) as browser:
            assert (await browser.get("/healthz")).status_code == 200  # the same port
            form = await browser.get("/ui/login")
            assert form.status_code == 200, process.output()
            assert form.headers["content-type"].startswith("text/html")
            assert "<h1>Sign in</h1>" in form.text
            r = await browser.post("/ui/login", data={"csrf": csrf_of(form.text), "token": ADMIN})
            assert r.status_code == 303 and r.headers["location"] == "/ui/projects"
            assert (await browser.get("/ui/projects")).status_code == 200
            for name, kind in (("ui.js", "javascript"), ("ui.css", "text/css")):
                got = await browser.get(f"/ui/static/{name}")
                assert got.status_code == 200 and kind in got.headers["content-type"]
                assert got.content == (STATIC / name).read_bytes()  # as written, not built
    finally:
        end_group(process)
    assert sorted(p.name for p in STATIC.iterdir()) == ["ui.css", "ui.js"]
    assert not (ROOT / "package.json").exists()  # no Node build, at install or serve time


async def test_agentid_ui_false_leaves_the_page_out(tmp_path: Path) -> None:
    async with start_service(tmp_path / "data", ui=False) as service:
        async with httpx.AsyncClient(base_url=service.running.url) as browser:
            for path in ("/ui/login", "/ui/projects", "/ui/static/ui.js"):
                # an unknown path of the API, then: behind its token, and not found
                assert (await browser.get(path)).status_code == 401, path
                assert (await service.http.get(path)).status_code == 404, path
        assert (await service.http.get("/projects")).status_code == 200


def pixels(png: bytes) -> tuple[int, int, list[bytes]]:
    """Width, height and rows of RGB pixels of an 8-bit RGB, non-interlaced PNG."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    at, chunks = 8, {}
    data = b""
    while at < len(png):
        (length,) = struct.unpack(">I", png[at : at + 4])
        kind, body = png[at + 4 : at + 8], png[at + 8 : at + 8 + length]
        assert (
            zlib.crc32(kind + body)
            == struct.unpack(">I", png[at + 8 + length : at + 12 + length])[0]
        )
        if kind == b"IDAT":
            data += body
        chunks.setdefault(kind, body)
        at += 12 + length
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", chunks[b"IHDR"])
    assert (depth, colour, interlace) == (8, 2, 0)  # what Chromium's screenshots are
    raw, stride, rows, previous = zlib.decompress(data), width * 3, [], bytes(width * 3)
    assert len(raw) == height * (stride + 1)
    for y in range(height):
        kind, line = (
            raw[y * (stride + 1)],
            bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)]),
        )
        for x in range(stride):
            left = line[x - 3] if x >= 3 else 0
            up, corner = previous[x], previous[x - 3] if x >= 3 else 0
            if kind == 1:
                line[x] = (line[x] + left) & 0xFF
            elif kind == 2:
                line[x] = (line[x] + up) & 0xFF
            elif kind == 3:
                line[x] = (line[x] + (left + up) // 2) & 0xFF
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                best = left if pa <= pb and pa <= pc else up if pb <= pc else corner
                line[x] = (line[x] + best) & 0xFF
        rows.append(bytes(line))
        previous = bytes(line)
    return width, height, rows


def test_docs_ui_png_is_a_screenshot_of_the_page_shown_in_the_readme() -> None:
    width, height, rows = pixels((ROOT / "docs" / "ui.png").read_bytes())
    assert width == 1280 and height >= 720  # a desktop browser's viewport
    counts: Counter[bytes] = Counter()
    for row in rows[::4]:
        counts.update(row[x : x + 3] for x in range(0, len(row), 12))
    (background, most), *_ = counts.most_common(1)
    assert background == bytes((0xFD, 0xFD, 0xFC))  # ui.css's light --bg: the page itself
    assert most < 0.9 * sum(counts.values()) and len(counts) > 50  # and a lot on it
    readme = (ROOT / "README.md").read_text()
    assert "](docs/ui.png)" in readme and "![" in readme.split("](docs/ui.png)")[0][-200:]
