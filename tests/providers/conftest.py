"""Fixtures for provider tests: a real SMTP sink per test, and moto's server (the AWS
APIs: SES, Route 53) for the session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.external import REQUIRED
from tests.providers.sink import Sink
from tests.providers.sink import running_sink


@pytest.fixture
def sink() -> Iterator[Sink]:
    with running_sink() as running:
        yield running


@pytest.fixture(scope="session")
def moto_server() -> Iterator[str]:
    """moto in server mode on a free loopback port (SES and Route 53 alike): ``host:port``."""
    if REQUIRED:
        import moto.server as server_module
    else:
        server_module = pytest.importorskip("moto.server", reason="moto[server]: make install")
    server = server_module.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"{host}:{port}"
    server.stop()
