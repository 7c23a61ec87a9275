"""The ``agentid`` command through typer's CliRunner, against the contract's FakeAPI transport."""

from __future__ import annotations

import importlib
import json
import re
from pathlib import Path

import pytest
from pydantic import BaseModel
from typer.testing import CliRunner
from typer.testing import Result

from agentid.cli import Session
from agentid.cli import app
from agentid.email.schemas import AliasList
from agentid.projects.schemas import ProjectList
from agentid.projects.schemas import TokenList
from tests.fake_api import ADMIN
from tests.fake_api import BASE
from tests.fake_api import RAW
from tests.fake_api import FakeAPI
from tests.fake_api import closed_port

WIDE: dict[str, str | None] = {"COLUMNS": "200", "TERM": "dumb"}
README = Path(__file__).resolve().parents[1] / "README.md"


@pytest.fixture
def api() -> FakeAPI:
    return FakeAPI()


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str | None]:
    """A clean environment: the admin token in the data dir, nothing else set."""
    (tmp_path / "admin-token").write_text(ADMIN + "\n")
    return {
        "AGENTID_URL": BASE,
        "AGENTID_TOKEN": None,
        "AGENTID_ADMIN_TOKEN": None,
        "AGENTID_DATA_DIR": str(tmp_path),
    }


def run(api: FakeAPI, env: dict[str, str | None], *args: str) -> Result:
    return CliRunner().invoke(app, list(args), env=env, obj=Session(transport=api.transport()))


def test_token_falls_back_to_the_admin_token_file(api: FakeAPI, env: dict[str, str | None]) -> None:
    result = run(api, env, "project", "create", "acme", "--domain", "acme.test", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["domain"] == "acme.test"
    assert api.requests[-1].headers["authorization"] == f"Bearer {ADMIN}"


def test_missing_token_is_one_line(
    api: FakeAPI, env: dict[str, str | None], tmp_path: Path
) -> None:
    (tmp_path / "admin-token").unlink()
    result = run(api, env, "project", "list")
    assert result.exit_code == 1
    assert result.stderr.startswith("error: no token") and result.stderr.count("\n") == 1
    assert api.requests == []


def test_json_output_of_reading_and_creating_commands(
    api: FakeAPI, env: dict[str, str | None]
) -> None:
    run(api, env, "project", "create", "acme", "--domain", "acme.test")
    provisioned = json.loads(run(api, env, "email", "provision", "acme", "--json").stdout)
    assert provisioned["address"] == "hello@acme.test"
    alias = json.loads(run(api, env, "alias", "new", "acme", "--label", "signup", "--json").stdout)
    assert alias["address"] == "signup-k3f9x2@acme.test"
    listed = json.loads(run(api, env, "alias", "list", "acme", "--json").stdout)
    assert listed == {"aliases": [alias]}
    mid = api.deliver("acme")
    inbox = json.loads(run(api, env, "inbox", "acme", "--unread", "--wait", "5", "--json").stdout)
    assert [m["id"] for m in inbox["messages"]] == [mid]
    assert api.requests[-1].url.params["wait"] == "5"
    shown = json.loads(run(api, env, "show", "acme", mid, "--json").stdout)
    assert shown["subject"] == "Your code"
    token = json.loads(run(api, env, "token", "create", "acme", "--scope", "read", "--json").stdout)
    assert token["scopes"] == ["read"]
    projects = json.loads(run(api, env, "project", "list", "--json").stdout)
    assert [p["id"] for p in projects["projects"]] == ["acme"]


def test_human_output(api: FakeAPI, env: dict[str, str | None]) -> None:
    run(api, env, "project", "create", "acme", "--domain", "acme.test")
    assert "MX" in run(api, env, "email", "provision", "acme").stdout
    assert run(api, env, "alias", "new", "acme", "--label", "signup").stdout == (
        "signup-k3f9x2@acme.test\n"
    )
    mid = api.deliver("acme")
    assert "481516" in run(api, env, "inbox", "acme").stdout
    assert "Code: 481516" in run(api, env, "show", "acme", mid).stdout
    assert run(api, env, "show", "acme", mid, "--raw").stdout_bytes == RAW
    deleted = run(api, env, "alias", "delete", "acme", "signup-k3f9x2@acme.test")
    assert deleted.exit_code == 0 and api.projects["acme"] and api.aliases["acme"] == []


def test_code_prints_only_the_value_when_not_a_tty(
    api: FakeAPI, env: dict[str, str | None]
) -> None:
    run(api, env, "project", "create", "acme")
    api.deliver("acme", "314159")
    result = run(api, env, "code", "acme", "--wait", "60", "--channel", "email")
    assert result.exit_code == 0 and result.stdout == "314159\n"
    params = api.requests[-1].url.params
    assert dict(params) == {
        "unused": "true",
        "consume": "true",
        "limit": "1",
        "wait": "60",
        "channel": "email",
    }
    again = run(api, env, "code", "acme")
    assert again.exit_code == 1 and again.stdout == ""
    assert again.stderr == "error: no unused code arrived\n"


def test_code_json(api: FakeAPI, env: dict[str, str | None]) -> None:
    run(api, env, "project", "create", "acme")
    api.deliver("acme", "271828")
    found = json.loads(run(api, env, "code", "acme", "--json").stdout)
    assert found["value"] == "271828" and found["channel"] == "email"


def _pages_in(model: type[BaseModel]) -> pytest.MarkDecorator:
    return pytest.mark.skipif(
        "next" not in model.model_fields, reason=f"{model.__name__} has no `next` yet"
    )


@pytest.mark.parametrize(
    ("command", "key"),
    [
        pytest.param(["token", "list", "acme"], "tokens", marks=_pages_in(TokenList)),
        pytest.param(["alias", "list", "acme"], "aliases", marks=_pages_in(AliasList)),
        pytest.param(["project", "list"], "projects", marks=_pages_in(ProjectList)),
    ],
)
def test_lists_follow_next_to_the_end(
    api: FakeAPI, env: dict[str, str | None], command: list[str], key: str
) -> None:
    for pid in ("acme", "beta", "gamma"):
        run(api, env, "project", "create", pid)
    run(api, env, "email", "provision", "acme")
    for label in ("a", "b", "c"):
        run(api, env, "alias", "new", "acme", "--label", label)
        run(api, env, "token", "create", "acme")
    api.page_size = 2
    listed = json.loads(run(api, env, *command, "--json").stdout)
    assert list(listed) == [key] and len(listed[key]) == 3
    assert [r.url.params.get("before") for r in api.requests[-2:]] == [
        None,
        listed[key][1]["address" if key == "aliases" else "id"],
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--token", "wrong", "project", "list"], "error: missing or invalid token\n"),
        (["show", "acme", "m9999"], "error: message m9999 not found\n"),
        (["inbox", "nope"], "error: project 'nope' not found\n"),
        (["project", "create", "acme"], "error: project 'acme' already exists\n"),
    ],
)
def test_api_errors_are_one_line_and_exit_1(
    api: FakeAPI, env: dict[str, str | None], args: list[str], message: str
) -> None:
    run(api, env, "project", "create", "acme")
    result = run(api, env, *args)
    assert result.exit_code == 1
    assert result.stderr == message and result.stdout == ""


def test_unreachable_url(env: dict[str, str | None]) -> None:
    url = f"http://127.0.0.1:{closed_port()}"
    result = CliRunner().invoke(app, ["--url", url, "project", "list"], env=env)
    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: the agentid server at {url} is not reachable")
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.output


def test_bad_setting_for_serve_is_one_line(env: dict[str, str | None]) -> None:
    result = CliRunner().invoke(app, ["serve", "--http-port", "70000"], env=env)
    assert result.exit_code == 1
    assert result.stderr.startswith("error: invalid setting http_port")


def _extract_ready() -> bool:
    try:
        module = importlib.import_module("agentid.extract")
    except ImportError:
        return False
    return hasattr(module, "extract_eml") and hasattr(module, "extract_sms")


@pytest.mark.skipif(not _extract_ready(), reason="agentid.extract not written yet")
def test_extract_prints_one_json_line_per_file(tmp_path: Path) -> None:
    eml = tmp_path / "welcome.eml"
    eml.write_bytes(
        b"From: no-reply@shop.test\r\nTo: signup@acme.test\r\nSubject: Verify\r\n"
        b"Content-Type: text/plain\r\n\r\n"
        b"Your verification code is 482913.\r\nhttps://shop.test/verify?token=abc123\r\n"
    )
    sms = tmp_path / "sms.txt"
    sms.write_text("Your Shop code is 739201. Do not share it.")
    missing = tmp_path / "missing.txt"
    result = CliRunner().invoke(app, ["extract", str(eml), str(missing), str(sms)])
    assert result.exit_code == 1
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["file"] for line in lines] == [str(eml), str(sms)]
    assert all(set(line) == {"file", "codes", "links"} for line in lines)
    assert "482913" in json.dumps(lines[0]["codes"]) and "739201" in json.dumps(lines[1]["codes"])
    assert result.stderr.startswith(f"error: cannot read {missing}")


def _readme_commands() -> list[list[str]]:
    """The command words of every ``agentid ...`` line the README shows."""
    found = []
    for line in README.read_text().splitlines():
        words = line.strip().removeprefix("$ ").split()
        if len(words) < 2 or words[0] != "agentid" or words[1].startswith("-"):
            continue
        found.append([w for w in words[1:3] if re.fullmatch(r"[a-z][a-z-]*", w)])
    return found


def test_help_lists_every_command_the_readme_shows() -> None:
    shown = _readme_commands()
    assert len(shown) >= 8, "README shows too few agentid command lines"
    runner = CliRunner()
    top = runner.invoke(app, ["--help"], env=WIDE)
    assert top.exit_code == 0
    for words in shown:
        assert re.search(rf"\b{words[0]}\b", top.stdout), f"`agentid {words[0]}` not in --help"
        group = runner.invoke(app, [words[0], "--help"], env=WIDE)
        assert group.exit_code == 0, f"`agentid {words[0]} --help` failed"
        if len(words) > 1 and "Commands" in group.stdout:
            assert re.search(rf"\b{words[1]}\b", group.stdout), f"`agentid {' '.join(words)}`"
