"""Every DNS provider under one contract: a plan applied to an empty zone creates each
record, a second apply changes nothing, records agentid did not create are kept (or are
a conflict), and our own old records are updated in place."""

from __future__ import annotations

import re

from agentid.dns.apply import apply_plan
from agentid.dns.apply import conflict_message
from agentid.dns.plan import MailDomain
from agentid.dns.plan import Role
from agentid.dns.reconcile import Outcome
from agentid.providers.base import DnsRecord
from tests.providers.dns.conftest import ZONE
from tests.providers.dns.conftest import Zone

KEY = "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA" * 9  # a TXT value over 255 bytes
MAIL = MailDomain(
    domain=ZONE,
    mail_host="mx.acme.test",
    selector="agentid",
    public_key_b64=KEY,
    public_ip="203.0.113.7",
    spf_includes=("amazonses.com",),
    relay_records=(DnsRecord("tok1._domainkey.acme.test", "CNAME", "tok1.dkim.amazonses.com"),),
)


def nobody(_: DnsRecord) -> bool:
    return False


async def test_apply_creates_then_changes_nothing(zone: Zone) -> None:
    made, applied = await apply_plan(zone.provider, MAIL, nobody)
    assert [a.status for a in applied] == [Outcome.CREATED] * len(made.records)
    assert all(a.owned and a.error is None for a in applied)
    held = await zone.provider.read_records(ZONE)
    for planned in made.records:
        assert any(r.same(planned.record) for r in held), planned
    dkim = next(r for r in held if r.name == "agentid._domainkey.acme.test")
    assert dkim.value == f"v=DKIM1; k=rsa; p={KEY}"  # split on the way out, joined back
    if zone.kind == "cloudflare":
        assert all(a.record.id for a in applied)  # Cloudflare's ids, to store
        before = len(zone.state.changes())
    ids = {a.record.id for a in applied}

    def ours(record: DnsRecord) -> bool:
        return record.id in ids if record.id else any(record.same(a.record) for a in applied)

    _, again = await apply_plan(zone.provider, MAIL, ours)
    assert {a.status for a in again} == {Outcome.UNCHANGED}
    assert all(a.owned for a in again)
    if zone.kind == "cloudflare":
        assert len(zone.state.changes()) == before  # no change call the second time


async def test_records_of_others_are_kept_and_spf_merged(zone: Zone) -> None:
    zone.put(DnsRecord(ZONE, "TXT", "google-site-verification=abc"))
    zone.put(DnsRecord(ZONE, "TXT", "v=spf1 include:_spf.google.com -all"))
    zone.put(DnsRecord(f"www.{ZONE}", "A", "192.0.2.80"))
    _, applied = await apply_plan(zone.provider, MAIL, nobody)
    spf = next(a for a in applied if a.role is Role.SPF)
    assert spf.status is Outcome.UPDATED
    want = "v=spf1 include:_spf.google.com ip4:203.0.113.7 include:amazonses.com -all"
    assert spf.record.value == want
    held = await zone.provider.read_records(ZONE)
    txt = sorted(r.value for r in held if r.name == ZONE and r.type == "TXT")
    assert txt == ["google-site-verification=abc", want]  # one SPF record, the other kept
    assert any(r.name == f"www.{ZONE}" and r.value == "192.0.2.80" for r in held)


async def test_another_mx_is_a_conflict_unless_forced(zone: Zone) -> None:
    zone.put(DnsRecord(ZONE, "MX", "mail.elsewhere.example", priority=5))
    _, stopped = await apply_plan(zone.provider, MAIL, nobody)
    outcome = {
        (a.role, a.record.type): (a.status, [(r.priority, r.value) for r in a.found])
        for a in stopped
    }
    assert outcome.pop((Role.MX, "MX")) == (Outcome.CONFLICT, [(5, "mail.elsewhere.example")])
    assert {status for status, _ in outcome.values()} == {Outcome.PLANNED}  # nothing sent
    assert re.search(r"MX acme\.test \(found 5 mail\.elsewhere\.example", conflict_message(stopped))
    held = await zone.provider.read_records(ZONE)
    assert [r for r in held if r.type in ("A", "TXT", "CNAME")] == []  # nothing changed
    _, applied = await apply_plan(zone.provider, MAIL, nobody, force=True)
    mx = next(a for a in applied if a.role is Role.MX)
    assert mx.status is Outcome.UPDATED and mx.owned
    held = [r for r in await zone.provider.read_records(ZONE) if r.type == "MX"]
    assert [(r.priority, r.value) for r in held] == [(10, "mx.acme.test")]


async def test_our_old_records_are_updated(zone: Zone) -> None:
    _, first = await apply_plan(zone.provider, MAIL, nobody)
    ids = {a.record.id for a in first}
    values = [a.record for a in first]

    def ours(record: DnsRecord) -> bool:
        return record.id in ids if record.id else any(record.same(v) for v in values)

    moved = MailDomain(
        domain=MAIL.domain,
        mail_host=MAIL.mail_host,
        selector=MAIL.selector,
        public_key_b64=MAIL.public_key_b64,
        public_ip="203.0.113.8",
        spf_includes=MAIL.spf_includes,
        relay_records=MAIL.relay_records,
    )
    _, second = await apply_plan(zone.provider, moved, ours)
    by_role = {(a.role, a.record.type): a.status for a in second}
    assert by_role[(Role.HOST, "A")] is Outcome.UPDATED
    assert by_role[(Role.MX, "MX")] is Outcome.UNCHANGED
    held = [r for r in await zone.provider.read_records(ZONE) if r.type == "A"]
    assert [r.value for r in held] == ["203.0.113.8"]
