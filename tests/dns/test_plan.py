"""The record plan (pure): MX, the mail host, SPF merged, DKIM, the relay's CNAMEs, DMARC,
PTR checks; and what applying it to a zone takes (reconcile)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agentid.config import Settings
from agentid.dns.plan import MailDomain
from agentid.dns.plan import Planned
from agentid.dns.plan import Role
from agentid.dns.plan import mail_domain
from agentid.dns.plan import plan
from agentid.dns.reconcile import Outcome
from agentid.dns.reconcile import reconcile
from agentid.errors import Conflict
from agentid.errors import ValidationFailed
from agentid.providers.base import DnsAction
from agentid.providers.base import DnsRecord
from agentid.providers.dns.rdata import txt_strings

KEY = "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA" * 9
SES_DKIM = tuple(
    DnsRecord(f"tok{n}._domainkey.acme.test", "CNAME", f"tok{n}.dkim.amazonses.com")
    for n in range(3)
)


def settings(**values: object) -> Settings:
    return Settings(data_dir=Path("unused"), **values)  # type: ignore[arg-type]


def acme(**values: object) -> MailDomain:
    return mail_domain(settings(**values), "acme.test", "agentid", KEY)


def test_the_whole_plan() -> None:
    mail = mail_domain(
        settings(public_ip="203.0.113.7", public_ipv6="2001:db8::7"),
        "Acme.Test.",
        "agentid",
        KEY,
        spf_includes=["amazonses.com"],
        relay_records=SES_DKIM,
    )
    got = plan(mail)
    assert [(p.role, p.record.type, p.record.name) for p in got.records] == [
        (Role.MX, "MX", "acme.test"),
        (Role.HOST, "A", "mx.acme.test"),
        (Role.HOST, "AAAA", "mx.acme.test"),
        (Role.SPF, "TXT", "acme.test"),
        (Role.DKIM, "TXT", "agentid._domainkey.acme.test"),
        *((Role.RELAY_DKIM, "CNAME", r.name) for r in SES_DKIM),
        (Role.DMARC, "TXT", "_dmarc.acme.test"),
    ]
    mx, a, aaaa, spf, dkim, *_, dmarc = (p.record for p in got.records)
    assert (mx.value, mx.priority) == ("mx.acme.test", 10)
    assert (a.value, aaaa.value) == ("203.0.113.7", "2001:db8::7")
    assert spf.value == "v=spf1 ip4:203.0.113.7 ip6:2001:db8::7 include:amazonses.com ~all"
    assert dkim.value == f"v=DKIM1; k=rsa; p={KEY}"
    assert dmarc.value == "v=DMARC1; p=none; rua=mailto:dmarc@acme.test"
    assert [(c.name, c.expected) for c in got.ptr] == [
        ("7.113.0.203.in-addr.arpa", "mx.acme.test"),
        (
            "7.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa",
            "mx.acme.test",
        ),
    ]


def test_defaults() -> None:
    got = plan(acme())
    assert got.of(Role.HOST) == [] and got.ptr == ()
    assert got.of(Role.SPF)[0].value == "v=spf1 mx ~all"  # no address known: mx
    assert "p=none;" in got.of(Role.DMARC)[0].value


def test_mail_host_outside_the_domain_gets_no_address_record() -> None:
    got = plan(acme(mail_host="mail.agentid.example", public_ip="203.0.113.7"))
    assert got.of(Role.MX)[0].value == "mail.agentid.example"
    assert got.of(Role.HOST) == []
    assert got.ptr[0].expected == "mail.agentid.example"


def test_dmarc_policy_is_the_override_and_spf_include_a_setting() -> None:
    got = plan(acme(dmarc_policy="reject", spf_include="spf.smarthost.example"))
    assert got.of(Role.DMARC)[0].value.startswith("v=DMARC1; p=reject;")
    assert got.of(Role.SPF)[0].value == "v=spf1 mx include:spf.smarthost.example ~all"
    with pytest.raises(ValueError):
        settings(dmarc_policy="maybe")


def test_existing_spf_is_merged_never_doubled() -> None:
    existing = [
        DnsRecord("acme.test", "TXT", "google-site-verification=abc"),
        DnsRecord("acme.test", "TXT", "v=spf1 include:_spf.google.com -all"),
        DnsRecord("other.acme.test", "TXT", "v=spf1 -all"),
    ]
    got = plan(acme(public_ip="203.0.113.7"), existing)
    assert got.of(Role.SPF) == [
        DnsRecord("acme.test", "TXT", "v=spf1 include:_spf.google.com ip4:203.0.113.7 -all")
    ]


def test_spf_over_ten_lookups_refuses_the_plan() -> None:
    full = "v=spf1 " + " ".join(f"include:i{n}.test" for n in range(10)) + " -all"
    with pytest.raises(Conflict, match="lookups"):
        plan(acme(), [DnsRecord("acme.test", "TXT", full)])


@pytest.mark.parametrize(
    ("values", "says"),
    [
        ({"public_ip": "2001:db8::1"}, "AGENTID_PUBLIC_IP"),
        ({"public_ipv6": "203.0.113.7"}, "AGENTID_PUBLIC_IPV6"),
        ({"mail_host": "bad host"}, "AGENTID_MAIL_HOST"),
        ({"spf_include": "-x-.test"}, "SPF include"),
    ],
)
def test_bad_settings_are_named(values: dict[str, str], says: str) -> None:
    with pytest.raises(ValidationFailed, match=says):
        acme(**values)


@given(st.text(max_size=70))
def test_a_bad_domain_is_one_clear_error(name: str) -> None:
    try:
        mail = mail_domain(settings(), name, "agentid", KEY)
    except ValidationFailed as err:
        assert "not a valid domain name" in err.message
    else:
        assert mail.domain.isascii() and "." in mail.domain


@given(st.text(min_size=0, max_size=1200))
def test_txt_strings_carry_the_value_in_255_byte_pieces(text: str) -> None:
    pieces = txt_strings(text)
    assert b"".join(pieces) == text.encode()
    assert all(len(p) <= 255 for p in pieces) and all(len(p) == 255 for p in pieces[:-1])


# --- reconcile ---------------------------------------------------------------------------


def not_ours(_: DnsRecord) -> bool:
    return False


def test_an_empty_zone_gets_every_record() -> None:
    got = plan(acme())
    steps = reconcile(got, [], not_ours)
    assert [s.outcome for s in steps] == [Outcome.CREATED] * len(got.records)
    assert all(s.changes[0].action is DnsAction.CREATE for s in steps)


def test_a_zone_already_right_needs_no_change() -> None:
    got = plan(acme())
    zone = [p.record for p in got.records]
    steps = reconcile(got, zone, not_ours)
    assert {s.outcome for s in steps} == {Outcome.UNCHANGED}
    assert all(s.changes == () for s in steps)


def test_someone_elses_mx_and_dmarc_conflict_unless_forced() -> None:
    theirs = [
        DnsRecord("acme.test", "MX", "mail.other.example", priority=5, id="r1"),
        DnsRecord("_dmarc.acme.test", "TXT", "v=DMARC1; p=reject", id="r2"),
        DnsRecord("acme.test", "TXT", "v=spf1 include:other.example -all", id="r3"),
        DnsRecord("acme.test", "TXT", "verification=1", id="r4"),
    ]
    got = plan(acme(), theirs)  # the plan is made from the zone: its SPF merged
    steps = {s.planned.role: s for s in reconcile(got, theirs, not_ours)}
    assert steps[Role.MX].outcome is Outcome.CONFLICT and steps[Role.MX].changes == ()
    assert steps[Role.MX].found == (theirs[0],)
    assert steps[Role.DMARC].outcome is Outcome.CONFLICT
    spf = steps[Role.SPF]  # merged: the one change made to a record not ours
    assert spf.outcome is Outcome.UPDATED
    [change] = spf.changes
    assert change.action is DnsAction.UPDATE and change.old == theirs[2]
    assert change.record.id == "r3"
    assert change.record.value == "v=spf1 include:other.example mx -all"
    forced = {s.planned.role: s for s in reconcile(got, theirs, not_ours, force=True)}
    assert forced[Role.MX].outcome is Outcome.UPDATED
    assert forced[Role.MX].changes[0].old == theirs[0]


def test_our_own_old_records_are_updated_and_extra_ones_deleted() -> None:
    got = plan(acme())
    old = [
        DnsRecord("acme.test", "MX", "old.acme.test", priority=10, id="a"),
        DnsRecord("acme.test", "MX", "older.acme.test", priority=20, id="b"),
    ]
    [step] = [
        s for s in reconcile(got, old, lambda r: r.id in ("a", "b")) if s.planned.role is Role.MX
    ]
    assert step.outcome is Outcome.UPDATED
    assert [(c.action, c.record.id) for c in step.changes] == [
        (DnsAction.UPDATE, "a"),
        (DnsAction.DELETE, "b"),
    ]


def test_planned_is_a_value_type() -> None:
    record = DnsRecord("acme.test", "TXT", "x", id="1")
    assert Planned(Role.SPF, record) == Planned(Role.SPF, DnsRecord("acme.test", "TXT", "x"))
