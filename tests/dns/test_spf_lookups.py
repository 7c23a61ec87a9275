"""The SPF lookup count over a whole evaluation, against a dict of TXT records: nested
includes, redirect, loops, void lookups, failures, the depth and query bounds; and over
generated include trees, the count is the tree's own sum."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agentid.dns.spf_lookups import MAX_QUERIES
from agentid.dns.spf_lookups import Count
from agentid.dns.spf_lookups import LookupFailed
from agentid.dns.spf_lookups import TxtOf
from agentid.dns.spf_lookups import count


def zone(records: dict[str, list[str]], asked: list[str] | None = None) -> TxtOf:
    """TXT of a name from ``records``; a value ``"!reason"`` fails the lookup."""

    async def txt(name: str) -> list[str]:
        if asked is not None:
            asked.append(name)
        values = records.get(name, [])
        if values[:1] and values[0].startswith("!"):
            raise LookupFailed(values[0][1:])
        return values

    return txt


def includes(*names: str, tail: str = "~all") -> str:
    return " ".join(["v=spf1", *(f"include:{n}" for n in names), tail])


async def test_nested_includes_count_in_full() -> None:
    txt = zone(
        {
            "a.test": [includes("b.test", tail="mx a -all"), "google-site-verification=x"],
            "b.test": ["v=spf1 ip4:192.0.2.1 exists:%{i}.x.test ptr ?all"],
        }
    )
    got = await count("v=spf1 mx include:a.test ~all", txt, domain="acme.test")
    assert got == Count(lookups=7)  # mx include:a | include:b mx a | exists ptr
    assert got.verdict() is None


async def test_more_than_ten_is_wrong_with_the_number() -> None:
    five = includes(*(f"l{n}.test" for n in range(5)))
    txt = zone({"top.test": [five], **{f"l{n}.test": ["v=spf1 a -all"] for n in range(5)}})
    got = await count("v=spf1 include:top.test mx -all", txt)
    assert got.lookups == 12 and got.over
    assert got.verdict() == ("wrong", "needs 12 DNS lookups (more than 10)")


async def test_redirect_is_followed_only_without_all() -> None:
    txt = zone({"r.test": ["v=spf1 a mx -all"]})
    assert (await count("v=spf1 ip4:192.0.2.1 redirect=r.test", txt)).lookups == 3
    assert (await count("v=spf1 -all redirect=r.test", txt)).lookups == 0


async def test_a_loop_is_over_the_limit() -> None:
    txt = zone({"a.test": [includes("b.test")], "b.test": [includes("a.test")]})
    got = await count(includes("a.test"), txt, domain="acme.test")
    assert got.loop == ("a.test", "b.test", "a.test") and got.over
    assert got.verdict() == (
        "wrong",
        "include loop a.test -> b.test -> a.test: needs more than 10 lookups",
    )
    back = await count(
        includes("x.test"), zone({"x.test": [includes("acme.test")]}), domain="acme.test"
    )
    assert back.loop == ("acme.test", "x.test", "acme.test")


async def test_a_diamond_is_counted_twice_but_asked_once() -> None:
    asked: list[str] = []
    txt = zone(
        {
            "l.test": [includes("d.test")],
            "r.test": [includes("d.test")],
            "d.test": ["v=spf1 a mx -all"],
        },
        asked,
    )
    got = await count(includes("l.test", "r.test"), txt)
    assert got.lookups == 2 + 2 * (1 + 2) and got.loop == ()
    assert sorted(asked) == ["d.test", "l.test", "r.test"]


async def test_void_lookups_and_targets_without_one_spf_record() -> None:
    got = await count(includes("gone.test"), zone({}))
    assert got.voids == 1 and got.broken and "void" in got.broken
    assert got.verdict() == ("wrong", got.broken)
    three = await count(includes("g1.test", "g2.test", "g3.test"), zone({}))
    assert three.voids == 3
    assert three.verdict() == ("wrong", "3 void DNS lookups (more than 2)")
    txt = zone({"t.test": ["hello"], "two.test": ["v=spf1 -all", "v=spf1 a -all"]})
    none = await count(includes("t.test"), txt)
    assert none.voids == 0 and "no SPF record" in (none.broken or "")
    assert "2 SPF records" in ((await count(includes("two.test"), txt)).broken or "")


async def test_a_failed_lookup_is_an_error_and_the_rest_counted() -> None:
    txt = zone(
        {"bad.test": ["!the name servers did not answer in time"], "ok.test": ["v=spf1 a -all"]}
    )
    got = await count(includes("bad.test", "ok.test"), txt)
    assert got.lookups == 3
    assert got.verdict() == ("error", "include:bad.test: the name servers did not answer in time")


async def test_depth_and_query_bounds() -> None:
    chain = {f"c{n}.test": [includes(f"c{n + 1}.test")] for n in range(40)}
    asked: list[str] = []
    got = await count(includes("c0.test"), zone(chain, asked), max_depth=3)
    assert not got.complete and len(asked) == 3 and got.lookups == 4
    wide = {f"w{n}.test": ["v=spf1 -all"] for n in range(50)}
    asked.clear()
    got = await count(includes(*wide), zone(wide, asked))
    assert len(asked) == 30 and got.lookups == 50 and not got.complete
    assert got.verdict() == ("wrong", "needs at least 50 DNS lookups (more than 10)")


async def test_the_whole_count_has_one_timeout() -> None:
    async def slow(name: str) -> list[str]:
        await asyncio.sleep(10)
        return []

    got = await count(includes("a.test"), slow, seconds=0.05)
    assert got.verdict() == ("error", "counting the SPF lookups took more than 0.05s")


@pytest.mark.parametrize("term", ["include:%{d}._spf.test", "redirect=%{d}.test"])
async def test_a_macro_target_is_counted_not_followed(term: str) -> None:
    got = await count(f"v=spf1 {term}", zone({}))
    assert got.lookups == 1 and not got.complete and got.verdict() is None


# A tree of includes: each node has its own extra lookups and children (distinct names).
Tree = tuple[int, list["Tree"]]
TREES: st.SearchStrategy[Tree] = st.recursive(
    st.tuples(st.integers(0, 3), st.just([])),
    lambda kids: st.tuples(st.integers(0, 3), st.lists(kids, max_size=3)),
    max_leaves=16,
)


def published(tree: Tree, name: str, records: dict[str, list[str]]) -> tuple[str, int, int]:
    """The tree's records into ``records`` under ``name``; its record, cost and depth."""
    extra, kids = tree
    cost, depth, names = extra, 0, []
    for n, kid in enumerate(kids):
        child = f"n{n}.{name}"
        text, kid_cost, kid_depth = published(kid, child, records)
        records[child] = [text]
        cost, depth = cost + 1 + kid_cost, max(depth, kid_depth + 1)
        names.append(child)
    return includes(*names, tail=" ".join(["a"] * extra + ["-all"])), cost, depth


@given(TREES)
def test_the_count_of_any_include_tree_is_its_sum(tree: Tree) -> None:
    records: dict[str, list[str]] = {}
    top, cost, depth = published(tree, "t.test", records)
    asked: list[str] = []
    got = asyncio.run(count(top, zone(records, asked)))
    assert got.failed is None and got.loop == ()
    if depth > 10 or len(records) > MAX_QUERIES:
        # cut short (too deep, or more names than may be asked), and over for sure: each
        # name is one include, so the chain or the names alone cost more than 10
        assert not got.complete and got.over
        return
    assert got.lookups == cost and got.complete
    assert sorted(asked) == sorted(records)  # each name asked once
    assert got.over is (cost > 10)
    assert (got.verdict() is None) is (cost <= 10)
