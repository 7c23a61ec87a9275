"""Provider URLs: parsing, the scheme → factory registry, and the settings that name them.
A malformed URL is refused with a message that never repeats its credentials."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest

from agentid.config import Settings
from agentid.errors import ValidationFailed
from agentid.providers.base import DnsChange
from agentid.providers.base import DnsChanged
from agentid.providers.base import DnsRecord
from agentid.providers.base import MailRelay
from agentid.providers.base import Providers
from agentid.providers.dns.zonefile import ZoneFile
from agentid.providers.mail.ses import SesRelay
from agentid.providers.mail.smtp import SmtpRelay
from agentid.providers.phone.sandbox import SandboxPhone
from agentid.providers.registry import ProviderUrl
from agentid.providers.registry import Registry
from agentid.providers.registry import Transports
from agentid.providers.registry import from_settings
from agentid.providers.registry import parse_url
from agentid.providers.registry import register_builtins

PASSWORD = "Pw-s3cr3t-9f"


@pytest.fixture
def registry() -> Registry:
    fresh = Registry()
    register_builtins(fresh)
    return fresh


def test_builtins_registered(registry: Registry) -> None:
    assert registry.schemes() == [
        *("cloudflare", "plivo", "route53", "sandbox", "sendgrid", "ses", "smtp", "smtps"),
        *("twilio", "zonefile"),
    ]
    register_builtins(registry)  # twice is harmless (create_app calls it per app)


def test_resolves_smtp(registry: Registry) -> None:
    relay = registry.relay(f"smtp://relay%40acme:{PASSWORD}@Smtp.Example:2587", Transports())
    assert isinstance(relay, SmtpRelay) and isinstance(relay, MailRelay)
    assert (relay.host, relay.port) == ("smtp.example", 2587)
    assert PASSWORD not in repr(relay)


def test_smtp_default_ports(registry: Registry) -> None:
    plain = registry.relay("smtp://mx.example", Transports())
    login = registry.relay(f"smtp://u:{PASSWORD}@mx.example", Transports())
    assert isinstance(plain, SmtpRelay) and isinstance(login, SmtpRelay)
    assert (plain.port, login.port) == (25, 587)


def test_relays_declare_their_batch_size_and_who_signs(registry: Registry) -> None:
    """What the outbox asks a relay instead of guessing from its URL's scheme."""
    key = "sendgrid://SG.key@api.sendgrid.com"
    said = {
        url: (relay.max_recipients, relay.signs_dkim)
        for url in ("smtp://h", "smtp://h?max_recipients=7&dkim=relay", "ses://eu-west-1", key)
        if isinstance(relay := registry.relay(url, Transports()), MailRelay)
    }
    assert list(said.values()) == [(100, False), (7, True), (50, True), (1000, True)]


def test_builtins_import_their_vendor_modules_on_first_use() -> None:
    """Registering the built-ins imports no vendor module (nor boto3): building the app
    stays cheap for a process that never sends through SendGrid or SES."""
    script = (
        "import sys\n"
        "from agentid.providers.registry import Registry, Transports, register_builtins\n"
        "r = Registry(); register_builtins(r)\n"
        "vendors = ('agentid.providers.mail.sendgrid', 'agentid.providers.mail.ses', 'boto3')\n"
        "print(sorted(m for m in vendors if m in sys.modules))\n"
        "r.relay('sendgrid://SG.key@api.sendgrid.com', Transports())\n"
        "print('agentid.providers.mail.sendgrid' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.split("\n")[:2] == ["[]", "True"]


def test_resolves_ses(registry: Registry) -> None:
    aws = registry.relay("ses://eu-west-1", Transports())
    assert isinstance(aws, SesRelay) and isinstance(aws, MailRelay)
    assert (aws.region, aws.endpoint, aws.configuration_set) == ("eu-west-1", None, None)
    keyed = registry.relay(
        f"ses://AKID1:{PASSWORD}@us-gov-west-1?configuration_set=out_1", Transports()
    )
    assert isinstance(keyed, SesRelay) and keyed.configuration_set == "out_1"
    assert PASSWORD not in repr(keyed) and "AKID1" not in repr(keyed)
    local = registry.relay("ses+http://127.0.0.1:4566?region=us-east-1", Transports())
    assert isinstance(local, SesRelay)
    assert (local.region, local.endpoint) == ("us-east-1", "http://127.0.0.1:4566")


def test_resolves_zonefile(registry: Registry, tmp_path: Path) -> None:
    dns = registry.dns(f"zonefile://{tmp_path}/zones", Transports())
    assert isinstance(dns, ZoneFile) and dns.directory == tmp_path / "zones"


def test_zonefile_relative(
    registry: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    dns = registry.dns("zonefile:zones/here", Transports())
    assert isinstance(dns, ZoneFile) and dns.directory == tmp_path / "zones" / "here"


def test_parse_every_part() -> None:
    url = parse_url(f"twilio+http://AC12%3A3:{PASSWORD}%40x@127.0.0.1:9000/base/?edge=ie1&a=")
    assert url == ProviderUrl(
        scheme="twilio",
        http=True,
        username="AC12:3",
        password=PASSWORD + "@x",
        host="127.0.0.1",
        port=9000,
        path="/base/",
        query={"edge": "ie1", "a": ""},
    )
    assert url.endpoint("https://api.twilio.com") == "http://127.0.0.1:9000/base"
    assert PASSWORD not in repr(url)


def test_without_http_override_the_vendor_endpoint() -> None:
    url = parse_url(f"twilio://AC123:{PASSWORD}@")
    assert not url.http and url.host is None
    assert url.endpoint("https://api.twilio.com") == "https://api.twilio.com"
    assert parse_url("ses://?region=eu-west-1").query == {"region": "eu-west-1"}
    assert parse_url("x+http://[::1]:8080").endpoint("https://v") == "http://[::1]:8080"


def test_third_party_uses_the_same_door(registry: Registry) -> None:
    class Recorder:
        def __init__(self, url: ProviderUrl) -> None:
            self.url = url

        async def find_zone(self, domain: str) -> str:
            return domain

        async def read_records(self, zone: str) -> Sequence[DnsRecord]:
            return []

        async def change(self, zone: str, changes: Sequence[DnsChange]) -> Sequence[DnsChanged]:
            return []

    def factory(url: ProviderUrl, transports: Transports) -> Recorder:
        return Recorder(url)

    registry.register("powerdns", factory)
    built = registry.dns(f"powerdns+http://:{PASSWORD}@127.0.0.1:9100", Transports())
    assert isinstance(built, Recorder) and built.url.password == PASSWORD
    with pytest.raises(ValueError, match="already registered"):
        registry.register("powerdns", lambda url, transports: Recorder(url))
    with pytest.raises(ValueError):
        registry.register("Bad+Scheme", factory)


@pytest.mark.parametrize(
    ("url", "says"),
    [
        (
            f"pigeon://:{PASSWORD}@",
            "unknown provider scheme 'pigeon' (known: cloudflare, plivo, route53,",
        ),
        (f"smtp+https://u:{PASSWORD}@h:25", "unknown transport '+https'"),
        ("smtp://", "smtp:// needs a host"),
        (f"smtp://u:{PASSWORD}@:25", "a port was given without a host"),
        (f"smtp://u:{PASSWORD}@/", "smtp:// needs a host"),
        (f"smtp://u:{PASSWORD}@h:99999", "the port must be a number from 1 to 65535"),
        (f"smtp://u:{PASSWORD}@h:0", "the port must be a number from 1 to 65535"),
        (f"smtp://u:{PASSWORD}@h:smtp", "the port must be a number from 1 to 65535"),
        (f"smtp://u:{PASSWORD}@[::1", "not a valid URL"),
        (f"u:{PASSWORD}@h", "unknown provider scheme 'u'"),
        (f"{PASSWORD}@smtp.example", "not a URL"),
        (f"smtp://u:{PASSWORD} @h", "no spaces or control characters"),
        (f"smtp://u:{PASSWORD}@h\n", "no spaces or control characters"),
        (f"smtp://u:{PASSWORD}@h?starttls=1&starttls=0", "'starttls' is given twice"),
        (f"smtp://u:{PASSWORD}@h?tls=1", "no query parameter 'tls'"),
        (f"smtp://u:{PASSWORD}@h?starttls=maybe", "must be 1 or 0"),
        (f"smtp://u:{PASSWORD}@h?timeout=-1", "'timeout' must be > 0"),
        ("smtp://h?max_recipients=0", "'max_recipients' must be a whole number > 0"),
        ("smtp://h?max_recipients=2.5", "'max_recipients' must be a whole number > 0"),
        ("smtp://h?max_recipients=%EF%BC%92", "'max_recipients' must be a whole number > 0"),
        (f"smtp://u:{PASSWORD}@h#frag", "no #fragment"),
        (f"smtp://{PASSWORD}@h", "both or neither"),
        (f"smtp://u:{PASSWORD}@h/path", "takes no path"),
        (f"smtp+http://u:{PASSWORD}@h:25", "drop '+http'"),
        (f"zonefile://h{PASSWORD}/x", "no host"),
        ("ses://", "ses:// needs a region: ses://eu-west-1"),
        (f"ses://AKID:{PASSWORD}@", "ses:// needs a region"),
        ("ses://?region=eu-west-1", "names its region as the host"),
        ("ses://eu-west-1?region=eu-west-1", "names its region as the host"),
        ("ses://europe", "not an AWS region name"),
        ("ses://eu_west_1", "not an AWS region name"),
        ("ses://eu-west-1:443", "takes no port"),
        ("ses://eu-west-1/v2", "takes no path"),
        (f"ses://{PASSWORD}@eu-west-1", "both or neither"),
        ("ses://eu-west-1?configuration-set=x", "no query parameter 'configuration-set'"),
        ("ses://eu-west-1?configuration_set=", "configuration_set is 1 to 64"),
        ("ses://eu-west-1?configuration_set=a%20b", "configuration_set is 1 to 64"),
        ("ses://eu-west-1?timeout=0", "'timeout' must be > 0"),
        ("ses://eu-west-1?sns_topic=ses-bounces", "sns_topic is an SNS topic ARN"),
        ("ses+http://127.0.0.1:4566", "needs the region: ?region="),
        ("ses+http://127.0.0.1:4566?region=local", "not an AWS region name"),
        ("ses+http://?region=us-east-1", "'+http' needs the local server's host:port"),
        (f"ses+http://AKID:{PASSWORD}@:4566?region=us-east-1", "a port was given without a host"),
        ("zonefile://", "needs a directory"),
        ("zonefile:///", "needs a directory"),
        ("not a url", "no spaces"),
        ("", "not a URL"),
    ],
)
def test_malformed_urls(registry: Registry, url: str, says: str) -> None:
    with pytest.raises(ValidationFailed) as err:
        registry.build(url, Transports())
    assert says in err.value.message
    assert PASSWORD not in err.value.message
    assert err.value.status == 422


def test_zonefile_naming_a_file(registry: Registry, tmp_path: Path) -> None:
    (tmp_path / "acme.zone").write_text("")
    with pytest.raises(ValidationFailed, match="names a directory"):
        registry.dns(f"zonefile://{tmp_path}/acme.zone", Transports())


def test_wrong_kind(registry: Registry, tmp_path: Path) -> None:
    with pytest.raises(ValidationFailed, match=r"zonefile:// is not a mail relay"):
        registry.relay(f"zonefile://{tmp_path}", Transports())
    with pytest.raises(ValidationFailed, match=r"smtp:// is not a DNS provider"):
        registry.dns("smtp://h", Transports())
    with pytest.raises(ValidationFailed, match=r"smtp:// is not a phone provider"):
        registry.phone("smtp://h", Transports())


def test_from_settings(registry: Registry, tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path,
        relay_url=f"smtp://u:{PASSWORD}@smtp.example:587",
        dns_url=f"zonefile://{tmp_path}/zones",
    )
    providers = from_settings(settings, Transports(), registry)
    assert isinstance(providers.relay, SmtpRelay) and isinstance(providers.dns, ZoneFile)
    assert isinstance(providers.phone, SandboxPhone)  # the default
    assert PASSWORD not in repr(settings)
    off = Settings(data_dir=tmp_path, relay_url="", phone_url="")
    none = from_settings(off, Transports(), registry)
    assert none == Providers()


def test_from_settings_names_the_setting_not_the_value(registry: Registry, tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, phone_url=f"pigeon://AC1:{PASSWORD}@")
    with pytest.raises(ValidationFailed) as err:
        from_settings(settings, Transports(), registry)
    assert err.value.message == (
        "invalid setting AGENTID_PHONE_URL:"
        " unknown provider scheme 'pigeon'"
        " (known: cloudflare, plivo, route53, sandbox, sendgrid, ses, smtp, smtps,"
        " twilio, zonefile)"
    )


async def test_transports_close_only_their_own_client() -> None:
    import httpx

    given = httpx.AsyncClient()
    transports = Transports(http=given)
    assert transports.http is given
    await transports.aclose()
    assert not given.is_closed
    await given.aclose()
    own = Transports()
    client = own.http
    assert own.http is client
    await own.aclose()
    assert client.is_closed
