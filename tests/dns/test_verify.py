"""Verify against NSD on loopback serving the zone agentid applied (through zonefile://):
every record ok, then records removed and changed (missing, wrong), the PTR check, and a
name server that does not answer (error). Each verify asks again: no cache."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agentid.dns.apply import apply_plan
from agentid.dns.plan import MailDomain
from agentid.dns.plan import plan
from agentid.dns.resolver import nameservers
from agentid.dns.resolver import resolver
from agentid.dns.verify import Checked
from agentid.dns.verify import verified
from agentid.dns.verify import verify
from agentid.errors import ValidationFailed
from agentid.providers.base import DnsRecord
from agentid.providers.dns.zonefile import ZoneFile
from tests.dns.nameserver import HOST
from tests.dns.nameserver import free_udp_port
from tests.dns.nameserver import nsd
from tests.dns.nameserver import require_nsd
from tests.dns.nameserver import write_zone

KEY = "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA" * 9
MAIL = MailDomain(
    domain="acme.test",
    mail_host="mx.acme.test",
    selector="agentid",
    public_key_b64=KEY,
    public_ip="203.0.113.7",
    spf_includes=("amazonses.com",),
    relay_records=(DnsRecord("tok1._domainkey.acme.test", "CNAME", "tok1.dkim.amazonses.com"),),
)
REVERSE = "113.0.203.in-addr.arpa"
ZONES = ["acme.test", REVERSE, "amazonses.com"]  # SPF's include is counted through it


def nobody(_: DnsRecord) -> bool:
    return False


def statuses(checked: list[Checked]) -> dict[tuple[str, str], str]:
    return {(c.type, c.name): c.status for c in checked}


async def served(tmp_path: Path, ptr: str | None = "mx.acme.test") -> Path:
    """The plan applied to a zone file, wrapped in a whole zone NSD serves."""
    require_nsd()
    await apply_plan(ZoneFile(tmp_path / "zones"), MAIL, nobody)
    write_zone(tmp_path, "acme.test", f"$INCLUDE {tmp_path}/zones/acme.test.zone acme.test.\n")
    write_zone(tmp_path, REVERSE, f"7 IN PTR {ptr}.\n" if ptr else "")
    write_zone(tmp_path, "amazonses.com", '@ IN TXT "v=spf1 ip4:199.255.192.0/22 -all"\n')
    return tmp_path / "zones" / "acme.test.zone"


async def test_every_record_ok(tmp_path: Path) -> None:
    await served(tmp_path)
    with nsd(tmp_path, ZONES) as port:
        res = resolver(nameservers(f"{HOST}:{port}"), 2.0)
        checked = await verify(plan(MAIL), MAIL, res)
    assert {c.status for c in checked} == {"ok"}, checked
    assert verified(checked)
    assert [c.type for c in checked] == ["MX", "A", "TXT", "TXT", "CNAME", "TXT", "PTR"]
    dkim = next(c for c in checked if c.name.startswith("agentid._domainkey"))
    assert dkim.found == (f"v=DKIM1; k=rsa; p={KEY}",)  # joined from its 255-byte strings


async def test_missing_and_wrong_records(tmp_path: Path) -> None:
    fragment = await served(tmp_path, ptr="somewhere.else.test")
    lines = fragment.read_text().splitlines()
    keep = [line for line in lines if not line.startswith("_dmarc")]
    keep = [
        line.replace("mx.acme.test.", "mail.other.test.") if "\tMX\t" in line else line
        for line in keep
    ]
    keep.append('@\t300\tIN\tTXT\t"v=spf1 -all"')  # a second SPF record
    keep = [line.replace(KEY[:40], "AAAA" + KEY[4:40]) for line in keep]
    fragment.write_text("\n".join(keep) + "\n")
    with nsd(tmp_path, ZONES) as port:
        checked = await verify(plan(MAIL), MAIL, resolver(nameservers(f"{HOST}:{port}"), 2.0))
    got = statuses(checked)
    assert got[("MX", "acme.test")] == "wrong"
    mx = next(c for c in checked if c.type == "MX")
    assert mx.found == ("10 mail.other.test",) and mx.expected == "10 mx.acme.test"
    assert got[("TXT", "acme.test")] == "wrong"  # two SPF records
    assert got[("TXT", "agentid._domainkey.acme.test")] == "wrong"  # another key
    assert got[("TXT", "_dmarc.acme.test")] == "missing"
    assert got[("A", "mx.acme.test")] == "ok"
    assert got[("PTR", "7.113.0.203.in-addr.arpa")] == "wrong"
    assert not verified(checked)


async def test_no_answer_is_an_error_with_the_reason(tmp_path: Path) -> None:
    res = resolver(nameservers(f"{HOST}:{free_udp_port()}"), 0.3)
    checked = await verify(plan(MAIL), MAIL, res)
    assert {c.status for c in checked} == {"error"}
    assert all(c.reason for c in checked)
    assert not verified(checked)


@pytest.mark.parametrize(
    "setting", ["ns.example.test", "127.0.0.1:0", "127.0.0.1:x", "[::1]:99999"]
)
def test_bad_nameserver_settings(setting: str) -> None:
    with pytest.raises(ValidationFailed, match="AGENTID_DNS_NAMESERVERS"):
        nameservers(setting)


def test_nameserver_forms() -> None:
    servers = nameservers("127.0.0.1, 127.0.0.2:5353, [::1]:5300, ::2")
    assert servers is not None
    assert [(s.address, s.port) for s in servers] == [  # type: ignore[attr-defined]
        ("127.0.0.1", 53), ("127.0.0.2", 5353), ("::1", 5300), ("::2", 53)
    ]  # fmt: skip
    assert nameservers("") is None


@given(st.text(max_size=80))
def test_any_nameserver_setting_is_taken_or_named(setting: str) -> None:
    try:
        servers = nameservers(setting)
    except ValidationFailed as err:
        assert err.message.startswith("AGENTID_DNS_NAMESERVERS")
    else:
        assert servers is None or all(0 < s.port < 65536 for s in servers)  # type: ignore[attr-defined]
