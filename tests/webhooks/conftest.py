"""The webhook tests' agentid may post to loopback (the receivers run there) and retries
within a fraction of a second."""

from __future__ import annotations

from typing import Any

import pytest

from tests.webhooks.helpers import FAST


@pytest.fixture
def overrides() -> dict[str, Any]:
    return dict(FAST)
