"""GET /me, GET /projects/{id}/identity and ``agentid env`` against a real agentid."""

from __future__ import annotations

import json
import subprocess

import httpx

from tests.conftest import Service
from tests.service import assert_error
from tests.service import create_project
from tests.service import hosted
from tests.service import new_token
from tests.test_cli_live import cli


async def test_me_tells_a_token_who_it_is(service: Service) -> None:
    r = await service.http.get("/me")
    assert r.status_code == 200, r.text
    assert r.json() == {"admin": True, "project": None, "scopes": ["read", "send", "write"]}
    await create_project(service, "acme")
    token = await new_token(service, "acme", ["read"])
    async with service.client(token) as reader:
        assert (await reader.get("/me")).json() == {
            "admin": False,
            "project": "acme",
            "scopes": ["read"],
        }
    async with service.client("not-a-token") as stranger:
        assert_error(await stranger.get("/me"), 401)
    async with httpx.AsyncClient(base_url=service.running.url) as nobody:
        assert_error(await nobody.get("/me"), 401)


async def test_identity_of_a_provisioned_project(service: Service) -> None:
    await hosted(service, "acme", "acme.test")
    r = await service.http.get("/projects/acme/identity")
    assert r.status_code == 200, r.text
    found = r.json()
    assert found["email"] == "agent@acme.test"
    assert found["phone"] is None
    assert found["project"] == "acme"
    assert found["aliases_endpoint"] == f"{service.running.url}/projects/acme/email/aliases"
    assert found["codes_endpoint"] == f"{service.running.url}/projects/acme/codes"
    text = found["constitution"]
    assert text.startswith("# Your identity") and "agent@acme.test" in text
    assert found["aliases_endpoint"] in text and "site=" in text
    assert "Never paste, forward" in text and "bulk or unsolicited" in text


async def test_identity_is_seen_by_its_own_project_only(service: Service) -> None:
    await create_project(service, "acme")
    await create_project(service, "other")
    unprovisioned = (await service.http.get("/projects/acme/identity")).json()
    assert unprovisioned["email"] is None and "none yet" in unprovisioned["constitution"]
    token = await new_token(service, "acme", ["read"])
    sender = await new_token(service, "acme", ["send"])
    async with service.client(token) as reader, service.client(sender) as no_read:
        assert (await reader.get("/projects/acme/identity")).status_code == 200
        assert_error(await reader.get("/projects/other/identity"), 404, "not_found")
        assert_error(await reader.get("/projects/nope/identity"), 404, "not_found")
        assert_error(await no_read.get("/projects/acme/identity"), 403, "forbidden")
    assert_error(await service.http.get("/projects/%00x/identity"), 404)
    assert_error(await service.http.get("/projects/" + "a" * 5000 + "/identity"), 404)


async def test_env_is_safe_to_eval_in_sh(service: Service) -> None:
    await hosted(service, "acme", "acme.test")
    done = await cli(service, "env", "acme")
    lines = done.stdout.splitlines()
    assert [line.split("=")[0] for line in lines] == [
        "export AGENT_EMAIL",
        "export AGENT_PHONE",
        "export AGENTID_URL",
        "export AGENTID_PROJECT",
        "export AGENTID_TOKEN",
    ]
    script = (
        done.stdout
        + '\nprintf "%s|%s|%s|%s|%s" "$AGENT_EMAIL" "$AGENT_PHONE" '
        + ('"$AGENTID_URL" "$AGENTID_PROJECT" "$AGENTID_TOKEN"')
    )
    shown = subprocess.run(["sh", "-c", script], capture_output=True, text=True, check=True)
    email, phone, url, project, token = shown.stdout.split("|")
    assert (email, phone, url, project) == ("agent@acme.test", "", service.running.url, "acme")
    async with service.client(token) as agent:  # a new project-scoped token
        me = (await agent.get("/me")).json()
        assert me == {"admin": False, "project": "acme", "scopes": ["read", "send", "write"]}


async def test_env_formats_and_no_token(service: Service) -> None:
    await hosted(service, "acme", "acme.test")
    as_json = json.loads(
        (await cli(service, "env", "acme", "--format", "json", "--no-token")).stdout
    )
    assert as_json == {
        "AGENT_EMAIL": "agent@acme.test",
        "AGENT_PHONE": "",
        "AGENTID_URL": service.running.url,
        "AGENTID_PROJECT": "acme",
    }
    dotenv = (await cli(service, "env", "acme", "--format", "dotenv", "--no-token")).stdout
    assert dotenv.splitlines()[0] == 'AGENT_EMAIL="agent@acme.test"'
    assert "AGENTID_TOKEN" not in dotenv
    listed = await service.http.get("/projects/acme/tokens")
    assert listed.json()["tokens"] == []  # --no-token makes none
    bad = await cli(service, "env", "acme", "--format", "yaml", check=False)
    assert bad.returncode == 2
    missing = await cli(service, "env", "nope", check=False)
    assert missing.returncode == 1 and missing.stderr.startswith("error: ")


def test_sh_quoting_survives_hostile_values() -> None:
    from agentid.cli_env import Format
    from agentid.cli_env import render

    hostile = "a'b\"c $(touch /tmp/pwned) `id` ; rm -rf / \n x"
    script = render({"V": hostile}, Format.sh) + '\nprintf "%s" "$V"'
    shown = subprocess.run(["sh", "-c", script], capture_output=True, text=True, check=True)
    assert shown.stdout == hostile


async def test_identity_and_env_carry_the_projects_number(service: Service) -> None:
    """Once the project has a number (the sandbox provider here), the identity, its
    constitution and ``agentid env`` name it; released, it is gone from all three."""
    await hosted(service, "acme", "acme.test")
    r = await service.http.post("/projects/acme/phone/provision", json={"country": "US"})
    assert r.status_code == 201, r.text
    number = r.json()["number"]
    found = (await service.http.get("/projects/acme/identity")).json()
    assert found["phone"] == number and f"`{number}`" in found["constitution"]
    env = json.loads((await cli(service, "env", "acme", "--format", "json", "--no-token")).stdout)
    assert env["AGENT_PHONE"] == number
    assert (await service.http.delete("/projects/acme/phone")).status_code == 200
    assert (await service.http.get("/projects/acme/identity")).json()["phone"] is None
