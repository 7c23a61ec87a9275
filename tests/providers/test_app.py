"""The app builds its providers from the settings when it is made: they sit on the Runtime
for features to use; a bad provider URL stops ``agentid serve`` at start with one line; a
provider's rate limit reaches API clients as 429 with Retry-After."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from agentid.app import create_app
from agentid.errors import ProviderRateLimited
from agentid.errors import ValidationFailed
from agentid.providers.dns.zonefile import ZoneFile
from agentid.providers.mail.smtp import SmtpRelay
from agentid.providers.phone.sandbox import SandboxPhone
from agentid.server import running
from tests.conftest import make_settings
from tests.providers.sink import HOST
from tests.providers.sink import Sink
from tests.providers.sink import free_port

AGENTID = Path(sys.executable).parent / "agentid"
PASSWORD = "hunter2-Zq8"


async def test_runtime_holds_the_configured_providers(tmp_path: Path, sink: Sink) -> None:
    settings = make_settings(
        tmp_path / "data",
        relay_url=f"smtp://{HOST}:{sink.port}",
        dns_url=f"zonefile://{tmp_path}/zones",
    )
    async with running(settings) as run:
        providers = run.runtime.providers
        assert isinstance(providers.relay, SmtpRelay) and isinstance(providers.dns, ZoneFile)
        assert isinstance(providers.phone, SandboxPhone)  # the default
        message = b"From: a@acme.test\r\nTo: b@example.test\r\nSubject: hi\r\n\r\nhi\r\n"
        sent = await providers.relay.send("a@acme.test", ["b@example.test"], message)
        assert sent.message_id == "4Xk9ZQ1" and sink.received[0].data == message


async def test_no_provider_urls_means_features_off(tmp_path: Path) -> None:
    async with running(make_settings(tmp_path / "data", phone_url="")) as run:
        providers = run.runtime.providers
        assert (providers.relay, providers.phone, providers.dns) == (None, None, None)


def test_create_app_refuses_a_bad_url(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "data", dns_url=f"smtp://u:{PASSWORD}@h")
    with pytest.raises(ValidationFailed) as err:
        create_app(settings)
    assert err.value.message == "invalid setting AGENTID_DNS_URL: smtp:// is not a DNS provider"


async def test_rate_limited_answers_429_with_retry_after(tmp_path: Path) -> None:
    app = create_app(make_settings(tmp_path / "data"))

    async def slow_down() -> None:
        raise ProviderRateLimited("vendor asks to slow down: HTTP 429", retry_after=2.2)

    async def no_hint() -> None:
        raise ProviderRateLimited("vendor asks to slow down: HTTP 429")

    # Under /webhooks/ (public): no token, so no runtime needed; the handler is the app's.
    app.add_api_route("/webhooks/test/slow", slow_down)
    app.add_api_route("/webhooks/test/no-hint", no_hint)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://agentid") as client:
        r = await client.get("/webhooks/test/slow")
        assert r.status_code == 429 and r.headers["retry-after"] == "3"
        assert r.json() == {
            "error": {
                "code": "provider_rate_limited",
                "message": "vendor asks to slow down: HTTP 429",
            }
        }
        r = await client.get("/webhooks/test/no-hint")
        assert r.status_code == 429 and "retry-after" not in r.headers


@pytest.mark.parametrize(
    ("variable", "url", "line"),
    [
        (
            "AGENTID_RELAY_URL",
            f"lmtp://relay:{PASSWORD}@smtp.example:465",
            "error: invalid setting AGENTID_RELAY_URL: unknown provider scheme 'lmtp'"
            " (known: cloudflare, plivo, route53, sandbox, sendgrid, ses, smtp, smtps,"
            " twilio, zonefile)",
        ),
        (
            "AGENTID_RELAY_URL",
            f"smtp://relay:{PASSWORD}@smtp.example:99999",
            "error: invalid setting AGENTID_RELAY_URL: the port must be a number from 1 to 65535",
        ),
        (
            "AGENTID_PHONE_URL",
            f"twilio://AC1:{PASSWORD}@",
            "error: invalid setting AGENTID_PHONE_URL:"
            " a Twilio account sid is AC followed by 32 hex digits",
        ),
        (
            "AGENTID_PHONE_URL",
            f"twilio://AC{'0' * 32}:{PASSWORD}@api.twilio.com",
            "error: AGENTID_PUBLIC_URL is required with a phone provider other than the"
            " sandbox: the HTTPS address its SMS webhooks reach",
        ),
    ],
)
def test_serve_stops_at_start_with_one_line(
    tmp_path: Path, variable: str, url: str, line: str
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AGENTID_")}
    env |= {
        "AGENTID_DATA_DIR": str(tmp_path / "data"),
        "AGENTID_HTTP_PORT": str(free_port()),
        "AGENTID_SMTP_PORT": str(free_port()),
        "AGENTID_PARSE_PROCESSES": "0",
        variable: url,
    }
    done = subprocess.run(
        [str(AGENTID), "serve"], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 1, done.stderr
    assert done.stderr == line + "\n"
    assert done.stdout == ""
    assert PASSWORD not in done.stderr


def test_sdks_load_only_when_their_adapter_is_used(tmp_path: Path) -> None:
    """An agentid that sends through SMTP never loads boto3 or botocore (about 25 MB)."""
    code = (
        "import sys\n"
        "from agentid.app import create_app\n"
        "from agentid.config import Settings\n"
        f"create_app(Settings(data_dir={str(tmp_path)!r}, relay_url='smtp://127.0.0.1:25'))\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'boto3', 'botocore'}))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
