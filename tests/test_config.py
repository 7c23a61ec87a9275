"""Secrets the service makes for itself on a first start: the service key and the operator
token, each in a file of the data dir only the service user can read, unless given."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from agentid.cli_session import load_settings
from agentid.config import Settings
from agentid.config import load_admin_token
from agentid.config import load_secret_key
from agentid.errors import BadRequest


def test_secret_key_file(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", secret_key=None, admin_token=None)
    key = load_secret_key(settings)
    path = tmp_path / "data" / "secret-key"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert path.read_text().strip() == key
    assert len(key) >= 32
    assert load_secret_key(settings) == key
    assert load_secret_key(Settings(data_dir=tmp_path / "data", secret_key=None)) == key


def test_secret_key_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGENTID_SECRET_KEY", "from-the-environment")
    settings = Settings(data_dir=tmp_path / "data")
    assert load_secret_key(settings) == "from-the-environment"
    assert not (tmp_path / "data" / "secret-key").exists()


def test_admin_token_file(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", admin_token=None)
    token, from_file = load_admin_token(settings)
    assert from_file is True
    path = tmp_path / "data" / "admin-token"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert path.read_text().strip() == token
    assert load_admin_token(settings) == (token, True)
    given = Settings(data_dir=tmp_path / "other", admin_token="given-token-16-chars")
    assert load_admin_token(given) == ("given-token-16-chars", False)
    assert not (tmp_path / "other" / "admin-token").exists()


@pytest.mark.parametrize("token", ["", "   ", "CHANGE-ME", "x" * 15, " " + "x" * 20])
def test_a_guessable_admin_token_is_refused(tmp_path: Path, token: str) -> None:
    """The operator token opens everything, the web page's sign-in too: an empty one, the
    deploy files' placeholder or a short one stops the service at start (the error never
    repeats it)."""
    with pytest.raises(BadRequest) as refused:
        load_settings(data_dir=tmp_path, admin_token=token)
    message = str(refused.value)
    assert message.startswith("invalid setting admin_token:")
    assert "at least 16 characters" in message
    assert token.strip() == "" or token.strip() not in message


@pytest.mark.parametrize("key", ["", "CHANGE-ME"])
def test_the_placeholder_secret_key_is_refused(tmp_path: Path, key: str) -> None:
    with pytest.raises(BadRequest, match=r"secret_key: .*placeholder"):
        load_settings(data_dir=tmp_path, secret_key=key)
