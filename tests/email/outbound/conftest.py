"""Sending tests relay to a real SMTP sink on loopback (tests/providers/sink.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.providers.sink import Sink
from tests.providers.sink import running_sink


@pytest.fixture
def sink() -> Iterator[Sink]:
    with running_sink() as running:
        yield running
