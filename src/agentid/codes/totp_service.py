"""A project's authenticators: the secret sealed with the service key when it is added,
never shown again (lists show the label, issuer, account and parameters), and opened only
to compute the current code (``agentid.codes.totp``)."""

from __future__ import annotations

import logging
import time
from dataclasses import asdict

from sqlalchemy.exc import IntegrityError

from agentid.codes.repository import TotpRepository
from agentid.codes.schemas import TotpCode
from agentid.codes.schemas import TotpCreate
from agentid.codes.schemas import TotpList
from agentid.codes.schemas import TotpOut
from agentid.codes.totp import Authenticator
from agentid.codes.totp import code_at
from agentid.codes.totp import from_fields
from agentid.codes.totp import parse_uri
from agentid.crypto import SecretBox
from agentid.errors import Conflict
from agentid.errors import NotFound
from agentid.ids import new_id
from agentid.names import SLUG
from agentid.projects.repository import ProjectRepository
from agentid.projects.repository import audit
from agentid.runtime import Runtime
from agentid.store.db import AsyncSession
from agentid.store.tables import TotpSecret
from agentid.times import utcnow

log = logging.getLogger("agentid.codes")
MAX_PER_PROJECT = 100


def _out(row: TotpSecret) -> TotpOut:
    return TotpOut.model_validate(row, from_attributes=True)


def _sealed(box: SecretBox, project_id: str, label: str, auth: Authenticator) -> TotpSecret:
    """``auth`` as stored: its secret sealed, every other field of it kept plain."""
    plain = asdict(auth)
    secret: str = plain.pop("secret")
    return TotpSecret(
        id=new_id(),
        project_id=project_id,
        label=label,
        secret_sealed=box.seal(secret.encode()),
        created_at=utcnow(),
        **plain,
    )


async def add(rt: Runtime, session: AsyncSession, project_id: str, body: TotpCreate) -> TotpOut:
    """Store an authenticator under its label (409 when the label is taken)."""
    if body.uri is not None:
        auth = parse_uri(body.uri)
    else:
        assert body.secret is not None  # TotpCreate holds one of the two
        auth = from_fields(body.secret, body.algorithm, body.digits, body.period)
    repo = TotpRepository(session)
    await ProjectRepository(session).hold(project_id)  # counted, then added: one at a time
    if await repo.count(project_id) >= MAX_PER_PROJECT:
        raise Conflict(f"a project keeps at most {MAX_PER_PROJECT} authenticators")
    row = _sealed(rt.secrets, project_id, body.label, auth)
    repo.add(row, audit(project_id, "totp.added", {"label": body.label}))
    try:
        await session.commit()
    except IntegrityError:
        await session.rollback()
        taken = f"an authenticator labelled {body.label!r} exists: delete it first"
        raise Conflict(taken) from None
    log.info("totp added", extra={"project_id": project_id, "label": body.label})
    return _out(row)


async def listed(session: AsyncSession, project_id: str) -> TotpList:
    rows = await TotpRepository(session).listed(project_id)
    return TotpList(totp=[_out(r) for r in rows])


async def _get(session: AsyncSession, project_id: str, label: str) -> TotpSecret:
    row = await TotpRepository(session).get(project_id, label) if SLUG.fullmatch(label) else None
    if row is None:
        raise NotFound(f"no authenticator labelled {label[:63]!r}")
    return row


async def current_code(rt: Runtime, session: AsyncSession, project_id: str, label: str) -> TotpCode:
    """The labelled authenticator's code now, and how many seconds it stays the code."""
    row = await _get(session, project_id, label)
    await session.commit()  # the read ends here
    auth = Authenticator(
        secret=rt.secrets.open(row.secret_sealed).decode(),
        algorithm=row.algorithm,
        digits=row.digits,
        period=row.period,
    )
    code, valid_for = code_at(auth, time.time())
    return TotpCode(code=code, valid_for_seconds=valid_for)


async def remove(session: AsyncSession, project_id: str, label: str) -> None:
    await _get(session, project_id, label)
    repo = TotpRepository(session)
    await repo.remove(project_id, label)
    repo.add(audit(project_id, "totp.deleted", {"label": label}))
    await session.commit()


async def reseal_secrets(session: AsyncSession, box: SecretBox) -> int:
    """Every authenticator secret, sealed again under the current service key; how many.
    Part of ``agentid secrets rotate``'s one transaction."""
    rows = await TotpRepository(session).every()
    for row in rows:
        where = f"the authenticator {row.label} of {row.project_id}"
        row.secret_sealed = box.reseal(row.secret_sealed, what=where)
    return len(rows)
