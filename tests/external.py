"""External programs and servers the tests need (Postfix, NSD, Chromium, moto's server, a
C compiler for the native build): without one a test skips with the reason, unless
``AGENTID_REQUIRE_EXTERNAL=1`` (``.ci/run``), when it fails."""

from __future__ import annotations

import os
from typing import NoReturn

import pytest

REQUIRED = os.environ.get("AGENTID_REQUIRE_EXTERNAL") == "1"


def unavailable(reason: str) -> NoReturn:
    """End the test for want of something external: a skip, or in CI a failure."""
    if REQUIRED:
        pytest.fail(f"AGENTID_REQUIRE_EXTERNAL=1 but {reason}")
    pytest.skip(reason)
