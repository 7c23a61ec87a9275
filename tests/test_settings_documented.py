"""Drift: every setting is in the README's configuration table, and nothing else is."""

from __future__ import annotations

import re
from pathlib import Path

from agentid.config import Settings

README = Path(__file__).resolve().parents[1] / "README.md"


def documented() -> set[str]:
    text = README.read_text()
    section = text.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"^\| `(AGENTID_[A-Z0-9_]+)` \|", section, flags=re.MULTILINE))


def test_every_setting_is_documented() -> None:
    settings = {"AGENTID_" + name.upper() for name in Settings.model_fields}
    table = documented()
    assert settings - table == set(), "settings missing from the README table"
    assert table - settings == set(), "README documents settings that do not exist"
