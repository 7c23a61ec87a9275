"""Two processes digesting the same message (a second process's recovery at start reads
every message not digested yet, another may be writing it just then): the one that writes
second finds it digested and stores nothing, so no code or event is there twice."""

from __future__ import annotations

from sqlalchemy import Engine
from sqlalchemy import func
from sqlalchemy import select

from agentid.email.inbound.digest import digest
from agentid.store.tables import CodeRow
from agentid.store.tables import EventRow
from tests.conftest import Service
from tests.email.inbound.test_undigestible import commit_unparsed
from tests.email.inbound.test_undigestible import in_store
from tests.service import message


def digest_racing(engine: Engine, mid: str) -> tuple[int, int, int, int]:
    """The outer digest reads and parses; before it writes, a whole other digest of the
    same message runs and commits. What each returned, and the code and event rows."""
    inner: list[int] = []

    def meanwhile(_: int) -> None:
        inner.append(len(digest(engine, [mid])))

    outer = digest(engine, [mid], storing=meanwhile)
    with engine.connect() as conn:
        codes = conn.execute(
            select(func.count()).select_from(CodeRow).where(CodeRow.source_id == mid)
        ).scalar_one()
        events = conn.execute(
            select(func.count()).select_from(EventRow).where(EventRow.ref_id == mid)
        ).scalar_one()
    return inner[0], len(outer), codes, events


async def test_a_message_digested_meanwhile_is_not_stored_again(service: Service) -> None:
    raw = message("x@acme.test", "Your code", "Your verification code is 482913.")
    mid = await commit_unparsed(service, raw)
    inner, outer, codes, events = await in_store(service, digest_racing, mid)
    assert (inner, outer) == (1, 0)
    assert codes >= 1
    assert events == 1 + codes  # message.received and one code.found per code, once
