"""A project's send policy (allowed and blocked recipient domains) and suppression list
(bounces reported later: ``agentid.email.outbound.bounces``)."""

from __future__ import annotations

from agentid.email.outbound.repository import OutboxRepository
from agentid.email.outbound.schemas import SendPolicyIn
from agentid.email.outbound.schemas import SendPolicyOut
from agentid.email.outbound.schemas import SuppressionList
from agentid.email.outbound.schemas import SuppressionOut
from agentid.names import normalize_domain
from agentid.store.db import AsyncSession


def _domains(values: list[str]) -> list[str]:
    return sorted({normalize_domain(value) for value in values})


async def read(session: AsyncSession, project_id: str) -> SendPolicyOut:
    found = await OutboxRepository(session).policy(project_id)
    await session.commit()
    if found is None:
        return SendPolicyOut()
    return SendPolicyOut(send_allow=found.allow, send_block=found.block)


async def write(session: AsyncSession, project_id: str, body: SendPolicyIn) -> SendPolicyOut:
    allow = _domains(body.send_allow)
    block = _domains(body.send_block)
    await OutboxRepository(session).set_policy(project_id, allow, block)
    await session.commit()
    return SendPolicyOut(send_allow=allow, send_block=block)


async def suppressions(session: AsyncSession, project_id: str) -> SuppressionList:
    rows = await OutboxRepository(session).suppressions(project_id)
    await session.commit()
    return SuppressionList(
        suppressions=[
            SuppressionOut(address=r.address, reason=r.reason, created_at=r.created_at)
            for r in rows
        ]
    )


async def suppressed(
    session: AsyncSession, project_id: str, addresses: list[str]
) -> dict[str, str]:
    """Of ``addresses``, those on the project's suppression list (lower case), and why:
    a retry leaves them failed until the suppression is lifted."""
    wanted = sorted({a.lower() for a in addresses})
    return await OutboxRepository(session).suppressed(project_id, wanted) if wanted else {}


async def lift(session: AsyncSession, project_id: str, address: str) -> bool:
    lifted = await OutboxRepository(session).lift(project_id, address.lower())
    await session.commit()
    return lifted
