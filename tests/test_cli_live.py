"""The CLI against a real agentid: the README's session, command by command."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from agentid.codes.totp import code_at
from agentid.codes.totp import parse_uri
from tests.conftest import ADMIN
from tests.conftest import Service
from tests.service import eventually
from tests.service import listening
from tests.service import message
from tests.service import send

AGENTID = Path(sys.executable).parent / "agentid"


async def cli(
    service: Service, *args: str, check: bool = True, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AGENTID_")}
    env.update(AGENTID_URL=service.running.url, AGENTID_TOKEN=ADMIN)
    done = await asyncio.to_thread(
        subprocess.run,
        [str(AGENTID), *args],
        env=env,
        capture_output=True,
        text=True,
        input=stdin,
    )
    if check:
        assert done.returncode == 0, done.stderr
    return done


def code_mail(to: str) -> bytes:
    body = "Your Orbitly verification code is 482913. It expires in 10 minutes."
    return message(to, "Your code", body, "Orbitly <no-reply@orbitly.example>")


async def test_readme_session(service: Service, tmp_path: Path) -> None:
    await cli(service, "project", "create", "acme", "--domain", "acme.test")
    listed = json.loads((await cli(service, "project", "list", "--json")).stdout)
    assert [p["id"] for p in listed["projects"]] == ["acme"]
    provisioned = json.loads((await cli(service, "email", "provision", "acme", "--json")).stdout)
    assert provisioned["address"] == "agent@acme.test"
    address = (await cli(service, "alias", "new", "acme", "--label", "signup")).stdout.strip()
    assert address.startswith("signup-") and address.endswith("@acme.test")
    assert address in (await cli(service, "alias", "list", "acme")).stdout

    waiting = asyncio.create_task(
        cli(service, "inbox", "acme", "--to", address, "--wait", "20", "--json")
    )
    await listening(service, "acme", timeout=20)  # the command has started and is waiting
    await send(service, address, code_mail(address), "no-reply@orbitly.example")
    (entry,) = json.loads((await waiting).stdout)["messages"]
    assert entry["to"] == [address]

    shown = json.loads((await cli(service, "show", "acme", entry["id"], "--json")).stdout)
    assert [c["value"] for c in shown["codes"]] == ["482913"]
    raw = (await cli(service, "show", "acme", entry["id"], "--raw")).stdout
    assert "verification code is 482913" in raw
    eml = tmp_path / "mail.eml"
    eml.write_text(raw)
    (line,) = (await cli(service, "extract", str(eml))).stdout.splitlines()
    assert json.loads(line)["codes"][0]["value"] == "482913"

    # stdout is a pipe here, so `agentid code` prints just the value, and uses it up.
    assert (await cli(service, "code", "acme", "--wait", "5")).stdout == "482913\n"
    again = await cli(service, "code", "acme", "--wait", "1", check=False)
    assert again.returncode == 1
    assert again.stdout == "" and again.stderr.startswith("error: ")

    token = (await cli(service, "token", "create", "acme", "--scope", "read")).stdout.strip()
    async with service.client(token) as reader:
        r = await reader.get("/projects/acme/email/inbox")
        assert r.status_code == 200 and r.json()["messages"][0]["id"] == entry["id"]
        assert (await reader.post("/projects/acme/email/aliases", json={})).status_code == 403
        listed = json.loads((await cli(service, "token", "list", "acme", "--json")).stdout)
        (info,) = listed["tokens"]
        assert info["scopes"] == ["read"] and token not in json.dumps(listed)
        assert info["id"] in (await cli(service, "token", "list", "acme")).stdout
        await cli(service, "token", "revoke", "acme", info["id"])
        assert (await reader.get("/projects/acme/email/inbox")).status_code == 401
        gone = await cli(service, "token", "revoke", "acme", info["id"], check=False)
        assert gone.returncode == 1 and gone.stderr.startswith("error: ")


async def test_send_and_outbox(service: Service, tmp_path: Path) -> None:
    """Mail between two hosted projects: no relay needed, delivered locally."""
    for project, domain in (("acme", "acme.test"), ("beta", "beta.test")):
        await cli(service, "project", "create", project, "--domain", domain)
        await cli(service, "email", "provision", project)
    page = tmp_path / "page.html"
    page.write_text("<p>Hello <b>beta</b></p>")
    attached = tmp_path / "notes.txt"
    attached.write_text("the notes")
    mid = (
        await cli(
            service,
            "send",
            "acme",
            "--to",
            "agent@beta.test",
            "--subject",
            "Hi",
            "--text",
            "Hello beta",
            "--html-file",
            str(page),
            "--attach",
            str(attached),
        )
    ).stdout.strip()
    assert len(mid) == 26

    async def delivered() -> bool:
        listed = json.loads((await cli(service, "outbox", "acme", "--json")).stdout)
        return bool(listed["messages"][0]["status"] == "sent")

    await eventually(delivered, "the outbox delivered it")
    table = (await cli(service, "outbox", "acme")).stdout  # wrapped to the terminal's width
    assert "sent" in table and mid[:10] in table
    (entry,) = json.loads((await cli(service, "inbox", "beta", "--json")).stdout)["messages"]
    assert entry["subject"] == "Hi" and entry["has_attachments"] is True
    missing = await cli(service, "send", "acme", "--to", "a@b.example", check=False)
    assert missing.returncode == 2 and "--text or --html-file" in missing.stderr
    refused = await cli(
        service,
        "send",
        "acme",
        "--to",
        "x@beta.test",
        "--text",
        "t",
        "--from",
        "ceo@bank.example",
        check=False,
    )
    assert refused.returncode == 1 and refused.stderr.startswith("error: from must be")


async def test_totp_and_escalations(service: Service) -> None:
    await cli(service, "project", "create", "acme")
    uri = "otpauth://totp/GitHub:agent?secret=JBSWY3DPEHPK3PXP&issuer=GitHub"
    added = await cli(service, "totp", "add", "acme", "github", "--uri", "-", stdin=uri + "\n")
    assert added.stdout == "" and added.stderr == "added github (GitHub, agent)\n"
    (listed,) = json.loads((await cli(service, "totp", "list", "acme", "--json")).stdout)["totp"]
    assert listed["label"] == "github" and "secret" not in listed
    assert "JBSWY3DP" not in (await cli(service, "totp", "list", "acme")).stdout
    before = code_at(parse_uri(uri), time.time())[0]
    code = (await cli(service, "totp", "code", "acme", "github")).stdout
    assert code in (f"{before}\n", f"{code_at(parse_uri(uri), time.time())[0]}\n")
    await cli(service, "totp", "delete", "acme", "github")
    gone = await cli(service, "totp", "code", "acme", "github", check=False)
    assert gone.returncode == 1 and gone.stderr.startswith("error: no authenticator")

    opened = await cli(
        service, "escalations", "open", "acme", "--kind", "code", "--service", "notion.so",
        "--reason", "Notion texts its code",
    )  # fmt: skip
    eid = opened.stdout.strip()
    assert len(eid) == 26
    assert eid in (await cli(service, "escalations")).stdout
    (shown,) = json.loads((await cli(service, "escalations", "--json")).stdout)["escalations"]
    assert (shown["id"], shown["project_id"], shown["status"]) == (eid, "acme", "open")
    mine = json.loads((await cli(service, "escalations", "list", "acme", "--json")).stdout)
    assert [e["id"] for e in mine["escalations"]] == [eid]

    waiting = asyncio.create_task(
        cli(service, "code", "acme", "--site", "notion.so", "--wait", "20")
    )
    await listening(service, "acme", timeout=20)
    answered = await cli(service, "escalations", "answer", "acme", eid, "314159")
    assert answered.stderr.startswith(f"answered {eid} (code ")
    assert (await waiting).stdout == "314159\n"
    again = await cli(service, "escalations", "answer", "acme", eid, "1", check=False)
    assert again.returncode == 1 and "answered: it takes no answer" in again.stderr
    assert (await cli(service, "escalations")).stderr == "no escalations\n"
