"""A project's number: bought, pinned, released, collected when unused.

The rules this module keeps: a number is recorded only once the provider has sold it
(a failed search or purchase leaves nothing behind), and a number the store refuses to
record (another provisioning of the same project won) is released again at once; at most
one pending or active number per project (the store's partial unique index says so, not
a check that could race); releasing keeps the row and its SMS, with when. The SMS webhook
a number is bought with is ``AGENTID_PUBLIC_URL`` + the provider's webhook path.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy.exc import IntegrityError

from agentid.crypto import SecretBox
from agentid.errors import Conflict
from agentid.errors import NotFound
from agentid.errors import ProviderError
from agentid.errors import ProviderRejected
from agentid.errors import ValidationFailed
from agentid.ids import new_id
from agentid.phone.repository import PhoneRepository
from agentid.phone.schemas import GcResult
from agentid.phone.schemas import PhoneNumberOut
from agentid.phone.schemas import ProvisionRequest
from agentid.projects.repository import audit
from agentid.providers.accounts import phone_for
from agentid.providers.base import Capability
from agentid.providers.base import NumberSearch
from agentid.providers.base import NumberStatus
from agentid.providers.base import OwnedNumber
from agentid.providers.base import PhoneProvider
from agentid.providers.registry import Transports
from agentid.runtime import Runtime
from agentid.store.db import AsyncSession
from agentid.store.tables import PhoneNumber
from agentid.times import utcnow

log = logging.getLogger("agentid.phone")
SEARCH_SIZE = 10
VOIP_TYPES = frozenset({"nonFixedVoip", "fixedVoip", "voip"})
VOIP_WARNING = (
    "many services refuse VoIP and rented numbers, and carriers filter some verification"
    " SMS (Twilio error 30038): for a service that insists, register a forwarder"
)


def number_out(row: PhoneNumber) -> PhoneNumberOut:
    out = PhoneNumberOut.model_validate(row, from_attributes=True)
    out.warning = _warning(row)
    return out


def _warning(row: PhoneNumber) -> str | None:
    if row.provider in ("sandbox", "forwarder"):
        return None
    if row.line_type in VOIP_TYPES:
        return f"the provider says this is a {row.line_type} number: " + VOIP_WARNING
    return VOIP_WARNING


def webhook_url(rt: Runtime, provider: PhoneProvider) -> str | None:
    """Where the provider is to POST the SMS; None for one that posts none."""
    if provider.webhook_path is None:
        return None
    if not rt.settings.public_url:
        raise ValidationFailed(
            f"AGENTID_PUBLIC_URL is not set: {provider.scheme} numbers need the public"
            " HTTPS address their SMS webhooks reach"
        )
    return rt.settings.public_url.rstrip("/") + provider.webhook_path


async def _provider(rt: Runtime, project_id: str, transports: Transports) -> PhoneProvider:
    provider = await phone_for(rt, project_id, transports)
    if provider is None:
        raise ValidationFailed(
            "phone numbers are off: set AGENTID_PHONE_URL or the project's phone account"
        )
    return provider


async def current(session: AsyncSession, project_id: str) -> PhoneNumber:
    row = await PhoneRepository(session).live(project_id)
    if row is None:
        raise NotFound(f"project {project_id!r} has no phone number")
    return row


async def provision(
    rt: Runtime,
    session: AsyncSession,
    project_id: str,
    request: ProvisionRequest,
    transports: Transports,
) -> PhoneNumberOut:
    numbers = PhoneRepository(session)
    if await numbers.live(project_id) is not None:
        raise Conflict(f"project {project_id!r} has a phone number already")
    await session.commit()  # no transaction held while the provider is called
    provider = await _provider(rt, project_id, transports)
    sms_url = webhook_url(rt, provider)
    wanted = NumberSearch(
        request.country,
        frozenset({Capability.SMS}),
        line_type=request.type,
        area_code=request.area_code,
        limit=SEARCH_SIZE,
    )
    offered = await provider.search_numbers(wanted)
    taken = await numbers.taken([n.e164 for n in offered]) if offered else set()
    await session.commit()
    free = [n for n in offered if n.e164 not in taken]
    if not free:
        where = request.country + (f" area code {request.area_code}" if request.area_code else "")
        raise ProviderRejected(
            f"{provider.scheme} has no {request.type} numbers with SMS for sale in {where}"
        )
    owned = await provider.buy_number(free[0], sms_url=sms_url, owner=project_id)
    row = PhoneNumber(
        id=new_id(),
        project_id=project_id,
        e164=owned.e164,
        provider=provider.scheme,
        provider_sid=owned.provider_id,
        status=owned.status.value,
        capabilities=sorted(c.value for c in owned.capabilities),
        line_type=owned.line_type,
        keep=False,
        created_at=utcnow(),
        account_sid=owned.account,
        account_sealed=None
        if owned.account_secret is None
        else rt.secrets.seal(owned.account_secret.encode()),
    )
    numbers.add(row, audit(project_id, "phone.provisioned", _detail(row)))
    try:
        await session.commit()
    except IntegrityError:  # another provisioning of this project won: give this one back
        await session.rollback()
        await _give_back(provider, owned, project_id)
        raise Conflict(f"project {project_id!r} has a phone number already") from None
    log.info("phone number provisioned", extra=_detail(row))
    return number_out(row)


async def _give_back(provider: PhoneProvider, owned: OwnedNumber, project_id: str) -> None:
    try:
        await provider.release_number(owned)
    except ProviderError as err:  # said in the log: the operator releases it by hand
        log.error(
            "a number bought twice could not be released",
            extra={"project_id": project_id, "number": owned.e164, "error": err.message},
        )


def _detail(row: PhoneNumber) -> dict[str, object]:
    return {
        "project_id": row.project_id,
        "number": row.e164,
        "provider": row.provider,
        "status": row.status,
    }


async def settle(
    rt: Runtime, session: AsyncSession, row: PhoneNumber, transports: Transports
) -> PhoneNumber:
    """A pending number, asked about again at its provider: recorded ``active`` once the
    provider has completed the purchase. A provider that cannot say now (or no longer the
    project's) leaves it pending, said in the log: reading the number never fails on it."""
    if row.status != NumberStatus.PENDING.value:
        return row
    provider = await phone_for(rt, row.project_id, transports)
    await session.commit()  # no transaction held while the provider is called
    if provider is None or provider.scheme != row.provider:
        return row
    owned = OwnedNumber(
        row.e164, row.provider_sid, status=NumberStatus.PENDING, account=row.account_sid
    )
    try:
        now = await provider.number_status(owned)
    except (ProviderError, ValidationFailed) as err:
        log.warning(
            "pending number not checked",
            extra={"project_id": row.project_id, "number": row.e164, "error": err.message},
        )
        return row
    if now is not NumberStatus.ACTIVE:
        return row
    numbers = PhoneRepository(session)
    if await numbers.activate(row.id):
        session.add(audit(row.project_id, "phone.active", _detail(row) | {"status": "active"}))
        log.info("pending number active", extra={"project_id": row.project_id})
    await session.commit()
    await session.refresh(row)
    return row


async def settle_pending(rt: Runtime, session: AsyncSession, transports: Transports) -> int:
    """Every pending number asked about again (the daily collector); how many became active."""
    rows = await PhoneRepository(session).pending()
    await session.commit()
    active = 0
    for row in rows:
        settled = await settle(rt, session, row, transports)
        active += settled.status == NumberStatus.ACTIVE.value
    return active


async def show(
    rt: Runtime, session: AsyncSession, project_id: str, transports: Transports
) -> PhoneNumberOut:
    """The project's number; a pending one is first asked about again at its provider."""
    return number_out(await settle(rt, session, await current(session, project_id), transports))


async def release_row(
    rt: Runtime, session: AsyncSession, row: PhoneNumber, transports: Transports
) -> PhoneNumberOut:
    """Release ``row`` at its provider, then record it released (its SMS are kept)."""
    project_id = row.project_id
    provider = await _provider(rt, project_id, transports)
    if provider.scheme != row.provider:
        raise Conflict(
            f"the number was bought from {row.provider}, but the project now uses"
            f" {provider.scheme}: release it there by hand"
        )
    await session.commit()
    owned = OwnedNumber(
        row.e164, row.provider_sid, status=NumberStatus(row.status), account=row.account_sid
    )
    await provider.release_number(owned)
    session.add(row)
    row.status, row.released_at = NumberStatus.RELEASED.value, utcnow()
    session.add(audit(project_id, "phone.released", _detail(row)))
    await session.commit()
    log.info("phone number released", extra=_detail(row))
    return number_out(row)


async def release(
    rt: Runtime, session: AsyncSession, project_id: str, transports: Transports
) -> PhoneNumberOut:
    return await release_row(rt, session, await current(session, project_id), transports)


async def pin(session: AsyncSession, project_id: str, keep: bool) -> PhoneNumberOut:
    row = await current(session, project_id)
    row.keep = keep
    await session.commit()
    return number_out(row)


async def collect(
    rt: Runtime,
    session: AsyncSession,
    project_id: str | None,
    inactive_days: int,
    transports: Transports,
    *,
    dry_run: bool = False,
) -> GcResult:
    """Release the unpinned numbers (of ``project_id``, or all) with no inbound SMS for
    ``inactive_days``; with ``dry_run``, only say which."""
    before = utcnow() - timedelta(days=inactive_days)
    rows = await PhoneRepository(session).inactive(project_id, before)
    await session.commit()
    if dry_run:
        return GcResult(dry_run=True, numbers=[number_out(r) for r in rows])
    released = []
    for listed in rows:
        # Asked again just before its release: the list is older by every provider call
        # made since, and meanwhile an SMS may have come, or the number been pinned.
        still = await PhoneRepository(session).inactive(project_id, before, listed.id)
        if not still:
            await session.commit()
            continue
        row = still[0]
        try:
            released.append(await release_row(rt, session, row, transports))
        except (ProviderError, Conflict, ValidationFailed) as err:
            log.warning(
                "inactive number not released",
                extra={"project_id": row.project_id, "error": err.message},
            )
            await session.rollback()
    return GcResult(dry_run=False, numbers=released)


def account_secret(rt: Runtime, row: PhoneNumber) -> str | None:
    """The token of the sub-account that owns ``row`` (it signs the number's webhooks)."""
    return None if row.account_sealed is None else rt.secrets.open(row.account_sealed).decode()


async def reseal_account_secrets(session: AsyncSession, box: SecretBox) -> int:
    """Every number's sub-account token sealed again under the current service key; how
    many. Part of ``agentid secrets rotate``'s one transaction."""
    rows = await PhoneRepository(session).with_account_secret()
    for row in rows:
        assert row.account_sealed is not None
        where = f"number {row.e164}'s subaccount token"
        row.account_sealed = box.reseal(row.account_sealed, what=where)
    return len(rows)
