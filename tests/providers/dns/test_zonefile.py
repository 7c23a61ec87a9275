"""``zonefile://``: records written as a BIND zone file, checked by parsing the file back
with dnspython, the standard reader; applying is an idempotent upsert."""

from __future__ import annotations

import stat
from pathlib import Path
from typing import Any

import dns.rdataclass
import dns.rdatatype
import dns.zone
import pytest

from agentid.errors import ProviderError
from agentid.errors import ProviderRejected
from agentid.providers.base import DnsProvider
from agentid.providers.base import DnsRecord
from agentid.providers.dns.zonefile import ZoneFile
from agentid.providers.registry import Registry
from agentid.providers.registry import Transports
from agentid.providers.registry import register_builtins

ZONE = "acme.test"
DKIM = "v=DKIM1; k=rsa; p=" + "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA" * 9  # > 255 bytes
RECORDS = [
    DnsRecord("acme.test", "MX", "mx.acme.test", ttl=3600, priority=10),
    DnsRecord("mx.acme.test", "A", "192.0.2.25", ttl=300),
    DnsRecord("mx.acme.test", "AAAA", "2001:db8::25", ttl=300),
    DnsRecord("acme.test", "TXT", "v=spf1 mx ~all"),
    DnsRecord("agentid._domainkey.acme.test", "TXT", DKIM),
    DnsRecord("_dmarc.acme.test", "TXT", 'v=DMARC1; p=quarantine; note="q\\uote"'),
    DnsRecord("www.acme.test", "CNAME", "acme.example"),
    DnsRecord("hello.acme.test", "TXT", "grüße, ünïcode"),
]


def zonefile(directory: Path) -> ZoneFile:
    registry = Registry()
    register_builtins(registry)
    built = registry.dns(f"zonefile://{directory}", Transports())
    assert isinstance(built, ZoneFile) and isinstance(built, DnsProvider)
    return built


def parsed(path: Path) -> dict[tuple[str, str], tuple[int, list[Any]]]:
    """The file as dnspython reads it: (name, type) → (ttl, rdatas)."""
    zone = dns.zone.from_file(str(path), origin=ZONE + ".", relativize=False, check_origin=False)
    out: dict[tuple[str, str], tuple[int, list[Any]]] = {}
    for owner, rdataset in zone.iterate_rdatasets():
        assert rdataset.rdclass == dns.rdataclass.IN
        key = (owner.to_text(), dns.rdatatype.to_text(rdataset.rdtype))
        out[key] = (rdataset.ttl, list(rdataset))
    return out


async def test_write_and_parse_back_every_record(tmp_path: Path) -> None:
    dns_ = zonefile(tmp_path / "zones")
    await dns_.apply(ZONE, RECORDS)
    path = tmp_path / "zones" / "acme.test.zone"
    text = path.read_text()
    assert text.splitlines()[2] == "$ORIGIN acme.test."
    assert stat.S_IMODE(path.stat().st_mode) == 0o644

    got = parsed(path)
    assert set(got) == {
        ("acme.test.", "MX"),
        ("mx.acme.test.", "A"),
        ("mx.acme.test.", "AAAA"),
        ("acme.test.", "TXT"),
        ("agentid._domainkey.acme.test.", "TXT"),
        ("_dmarc.acme.test.", "TXT"),
        ("www.acme.test.", "CNAME"),
        ("hello.acme.test.", "TXT"),
    }
    ttl, [mx] = got[("acme.test.", "MX")]
    assert ttl == 3600 and mx.preference == 10 and mx.exchange.to_text() == "mx.acme.test."
    ttl, [a] = got[("mx.acme.test.", "A")]
    assert ttl == 300 and a.address == "192.0.2.25"
    ttl, [aaaa] = got[("mx.acme.test.", "AAAA")]
    assert ttl == 300 and aaaa.address == "2001:db8::25"
    _, [cname] = got[("www.acme.test.", "CNAME")]
    assert cname.target.to_text() == "acme.example."

    def strings(name: str) -> tuple[bytes, ...]:
        _, [txt] = got[(name, "TXT")]
        return tuple(txt.strings)

    assert strings("acme.test.") == (b"v=spf1 mx ~all",)
    dkim = strings("agentid._domainkey.acme.test.")
    assert len(dkim) == 2 and all(len(s) <= 255 for s in dkim) and len(dkim[0]) == 255
    assert b"".join(dkim) == DKIM.encode()
    assert strings("_dmarc.acme.test.") == (b'v=DMARC1; p=quarantine; note="q\\uote"',)
    assert strings("hello.acme.test.") == ("grüße, ünïcode".encode(),)


async def test_read_records_back(tmp_path: Path) -> None:
    dns_ = zonefile(tmp_path)
    assert await dns_.read_records(ZONE) == []
    await dns_.apply(ZONE, RECORDS)
    assert sorted(await dns_.read_records(ZONE), key=repr) == sorted(RECORDS, key=repr)


async def test_applying_again_changes_nothing(tmp_path: Path) -> None:
    dns_ = zonefile(tmp_path)
    await dns_.apply(ZONE, RECORDS)
    path = tmp_path / "acme.test.zone"
    before, stamp = path.read_bytes(), path.stat().st_mtime_ns
    await dns_.apply(ZONE, list(reversed(RECORDS)))
    await dns_.apply(ZONE, RECORDS[:3])
    assert path.read_bytes() == before and path.stat().st_mtime_ns == stamp


async def test_upsert_by_name_and_type(tmp_path: Path) -> None:
    dns_ = zonefile(tmp_path)
    await dns_.apply(ZONE, RECORDS)
    spf = DnsRecord("acme.test", "TXT", "v=spf1 a mx -all", ttl=600)
    two_mx = [
        DnsRecord("acme.test", "MX", "mx1.acme.test", priority=10),
        DnsRecord("acme.test", "MX", "mx2.acme.test", priority=20),
    ]
    await dns_.apply(ZONE, [spf, *two_mx])
    got = parsed(tmp_path / "acme.test.zone")
    ttl, [txt] = got[("acme.test.", "TXT")]
    assert ttl == 600 and txt.strings == (b"v=spf1 a mx -all",)
    _, mxs = got[("acme.test.", "MX")]
    assert sorted((m.preference, m.exchange.to_text()) for m in mxs) == [
        (10, "mx1.acme.test."),
        (20, "mx2.acme.test."),
    ]
    assert len(got) == 8  # every other record kept
    assert got[("mx.acme.test.", "A")][1][0].address == "192.0.2.25"


async def test_records_added_by_hand_are_kept(tmp_path: Path) -> None:
    dns_ = zonefile(tmp_path)
    await dns_.apply(ZONE, RECORDS[:1])
    path = tmp_path / "acme.test.zone"
    path.write_text(path.read_text() + "ftp 120 IN A 192.0.2.21\n")
    await dns_.apply(ZONE, RECORDS[1:2])
    got = parsed(path)
    assert got[("ftp.acme.test.", "A")][0] == 120
    assert {key for key in got} == {
        ("acme.test.", "MX"),
        ("mx.acme.test.", "A"),
        ("ftp.acme.test.", "A"),
    }


async def test_one_file_per_zone(tmp_path: Path) -> None:
    dns_ = zonefile(tmp_path)
    await dns_.apply("acme.test", RECORDS[:1])
    await dns_.apply("Other.Test.", [DnsRecord("other.test", "TXT", "x")])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["acme.test.zone", "other.test.zone"]
    assert await dns_.read_records("other.test") == [DnsRecord("other.test", "TXT", "x")]


@pytest.mark.parametrize(
    ("record", "says"),
    [
        (DnsRecord("acme.example", "A", "192.0.2.1"), "not in zone acme.test"),
        (DnsRecord("mx.acme.test", "A", "not-an-address"), "A record for mx.acme.test"),
        (DnsRecord("acme.test", "MX", "mx.acme.test"), "priority"),
        (DnsRecord("acme.test", "TXT", "x", priority=5), "priority"),
        (DnsRecord("acme.test", "BOGUS", "x"), "BOGUS record"),
        (DnsRecord("a b.acme.test", "A", "192.0.2.1"), "not a valid owner name"),
        (DnsRecord("acme.test", "A", "192.0.2.1", ttl=-1), "ttl"),
        (DnsRecord("acme.test", "CAA", '0 issue "ca.test"\n@ 1 IN A 1.2.3.4'), "control"),
    ],
)
async def test_bad_records_are_rejected_before_writing(
    tmp_path: Path, record: DnsRecord, says: str
) -> None:
    dns_ = zonefile(tmp_path)
    with pytest.raises(ProviderRejected, match=says):
        await dns_.apply(ZONE, [RECORDS[0], record])
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("zone", ["../etc", "acme/test", "", "a..b"])
async def test_bad_zone_names(tmp_path: Path, zone: str) -> None:
    with pytest.raises(ProviderRejected, match="not a zone name"):
        await zonefile(tmp_path).apply(zone, [])


async def test_a_broken_file_is_a_provider_error(tmp_path: Path) -> None:
    (tmp_path / "acme.test.zone").write_text("$ORIGIN acme.test.\n@ 300 IN A not-an-ip\n")
    with pytest.raises(ProviderError, match="does not parse") as err:
        await zonefile(tmp_path).read_records(ZONE)
    assert type(err.value) is ProviderError
