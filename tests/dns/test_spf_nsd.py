"""The SPF lookup count through NSD on loopback: a zone whose include records include
others, 19 lookups in all. Verify says ``wrong`` with the number; apply refuses the record
(``Conflict``, nothing written) when the name servers answer, and writes it, counted by
its own terms only, when they do not; a target the server will not answer is ``error``."""

from __future__ import annotations

from collections.abc import Awaitable
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import dns.asyncresolver
import pytest

from agentid.dns import spf_lookups
from agentid.dns.apply import apply_plan
from agentid.dns.plan import Role
from agentid.dns.plan import plan
from agentid.dns.resolver import nameservers
from agentid.dns.resolver import resolver
from agentid.dns.verify import verify
from agentid.errors import Conflict
from agentid.providers.dns.zonefile import ZoneFile
from tests.dns.nameserver import HOST
from tests.dns.nameserver import free_udp_port
from tests.dns.nameserver import nsd
from tests.dns.nameserver import require_nsd
from tests.dns.nameserver import write_zone
from tests.dns.test_verify import MAIL
from tests.dns.test_verify import nobody

BIG = replace(MAIL, spf_includes=("top.spf.test",), relay_records=())
# ours: include:top (1) | top: a, b (2) | a: a1..a4, b: b1..b4 (8) | each leaf: mx (8)
SPF_ZONE = "".join(
    [
        'top IN TXT "v=spf1 include:a.spf.test include:b.spf.test -all"\n',
        *(
            f'{x} IN TXT "v=spf1 {" ".join(f"include:{x}{n}.spf.test" for n in range(4))} -all"\n'
            for x in "ab"
        ),
        *(f'{x}{n} IN TXT "v=spf1 mx -all"\n' for x in "ab" for n in range(4)),
    ]
)
SPF = plan(BIG).of(Role.SPF)[0].value


def served(tmp_path: Path, spf_zone: str = SPF_ZONE) -> None:
    """acme.test with ``BIG``'s SPF record published, and spf.test with its includes."""
    write_zone(tmp_path, "acme.test", f'@ IN TXT "{SPF}"\n')
    write_zone(tmp_path, "spf.test", spf_zone)


def counting(res: dns.asyncresolver.Resolver) -> Callable[[str], Awaitable[spf_lookups.Count]]:
    async def cost(record: str) -> spf_lookups.Count:
        txt = spf_lookups.txt_of(res)
        return await spf_lookups.count(record, txt, domain=BIG.domain, seconds=res.lifetime)

    return cost


async def test_verify_counts_the_nested_includes(tmp_path: Path) -> None:
    require_nsd()
    served(tmp_path)
    with nsd(tmp_path, ["acme.test", "spf.test"]) as port:
        checked = await verify(plan(BIG), BIG, resolver(nameservers(f"{HOST}:{port}"), 2.0))
    got = next(c for c in checked if c.type == "TXT" and c.name == "acme.test")
    assert got.found == (SPF,)  # holds every term of ours: only the count makes it wrong
    assert (got.status, got.reason) == ("wrong", "needs 19 DNS lookups (more than 10)")


async def test_a_target_the_server_will_not_answer_is_an_error(tmp_path: Path) -> None:
    require_nsd()
    served(tmp_path, 'top IN TXT "v=spf1 a include:_spf.elsewhere.test -all"\n')
    with nsd(tmp_path, ["acme.test", "spf.test"]) as port:
        checked = await verify(plan(BIG), BIG, resolver(nameservers(f"{HOST}:{port}"), 2.0))
    got = next(c for c in checked if c.type == "TXT" and c.name == "acme.test")
    assert got.status == "error"
    assert got.reason and got.reason.startswith(
        "include:_spf.elsewhere.test: no name server answered"
    )


async def test_apply_refuses_what_the_name_servers_count_over_ten(tmp_path: Path) -> None:
    require_nsd()
    served(tmp_path)
    zones = ZoneFile(tmp_path / "zones")
    with nsd(tmp_path, ["acme.test", "spf.test"]) as port:
        res = resolver(nameservers(f"{HOST}:{port}"), 2.0)
        with pytest.raises(Conflict, match="need 19 DNS lookups counting what its includes"):
            await apply_plan(zones, BIG, nobody, spf_cost=counting(res))
    assert not (tmp_path / "zones" / "acme.test.zone").exists()  # nothing written


async def test_apply_without_answers_counts_the_own_terms_only(tmp_path: Path) -> None:
    res = resolver(nameservers(f"{HOST}:{free_udp_port()}"), 0.3)
    made, applied = await apply_plan(
        ZoneFile(tmp_path / "zones"), BIG, nobody, spf_cost=counting(res)
    )
    assert made.of(Role.SPF)[0].value == SPF
    assert {str(a.status) for a in applied} == {"created"}
