"""Registering, listing and removing a project's webhooks, reading their deliveries and
replaying one; keeping the operator's webhook in step with its settings.

A webhook gets the events written after it was registered (``after_seq``): it is never
sent the project's past. Its secret is shown once, when it is registered; only the key,
sealed with the service key, is kept. A project holds at most ``MAX_WEBHOOKS``.
"""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError

from agentid.config import Settings
from agentid.crypto import SecretBox
from agentid.errors import Conflict
from agentid.errors import NotFound
from agentid.errors import ValidationFailed
from agentid.ids import is_valid
from agentid.ids import new_id
from agentid.projects.repository import ProjectRepository
from agentid.projects.repository import audit
from agentid.runtime import Runtime
from agentid.store.db import AsyncSession
from agentid.store.tables import Webhook
from agentid.store.tables import WebhookDelivery
from agentid.times import utcnow
from agentid.webhooks import signing
from agentid.webhooks import targets
from agentid.webhooks.payloads import OPERATOR_KINDS
from agentid.webhooks.repository import OPERATOR_ID
from agentid.webhooks.repository import WebhookRepository
from agentid.webhooks.schemas import DeliveryList
from agentid.webhooks.schemas import DeliveryOut
from agentid.webhooks.schemas import WebhookCreate
from agentid.webhooks.schemas import WebhookCreated
from agentid.webhooks.schemas import WebhookList
from agentid.webhooks.schemas import WebhookOut

MAX_WEBHOOKS = 20  # per project


def webhook_out(row: Webhook) -> WebhookOut:
    return WebhookOut.model_validate(row, from_attributes=True)


def delivery_out(row: WebhookDelivery) -> DeliveryOut:
    return DeliveryOut.model_validate(row, from_attributes=True)


async def create(
    rt: Runtime, session: AsyncSession, project_id: str, body: WebhookCreate
) -> WebhookCreated:
    """Register a webhook; its secret is shown this once."""
    target = targets.parse(body.url.strip())
    targets.check_literal(target, rt.settings.webhook_allow_private)
    repo = WebhookRepository(session)
    await ProjectRepository(session).hold(project_id)  # counted, then added: one at a time
    if await repo.count(project_id) >= MAX_WEBHOOKS:
        raise Conflict(f"a project has at most {MAX_WEBHOOKS} webhooks: delete one first")
    secret, key = signing.new_secret()
    row = Webhook(
        id=new_id(),
        project_id=project_id,
        url=body.url.strip(),
        events=list(body.events),
        secret_sealed=rt.secrets.seal(key),
        enabled=True,
        after_seq=await repo.newest_event(),
        created_at=utcnow(),
    )
    detail: dict[str, object] = {"webhook_id": row.id, "host": target.host, "events": row.events}
    repo.add(row, audit(project_id, "webhook.created", detail))
    await session.commit()
    return WebhookCreated(**webhook_out(row).model_dump(), secret=secret)


async def listed(session: AsyncSession, project_id: str) -> WebhookList:
    rows = await WebhookRepository(session).listed(project_id)
    return WebhookList(webhooks=[webhook_out(r) for r in rows])


async def _webhook(repo: WebhookRepository, project_id: str, webhook_id: str) -> Webhook:
    found = None
    if is_valid(webhook_id.upper()):
        found = await repo.get(project_id, webhook_id.upper())
    if found is None:
        raise NotFound(f"webhook {webhook_id[:26]!r} not found")
    return found


async def shown(session: AsyncSession, project_id: str, webhook_id: str) -> WebhookOut:
    return webhook_out(await _webhook(WebhookRepository(session), project_id, webhook_id))


async def remove(session: AsyncSession, project_id: str, webhook_id: str) -> None:
    """The webhook and its deliveries go; nothing more is sent to it."""
    repo = WebhookRepository(session)
    row = await _webhook(repo, project_id, webhook_id)
    await repo.remove(row.id)
    repo.add(audit(project_id, "webhook.deleted", {"webhook_id": row.id}))
    await session.commit()


async def deliveries(
    session: AsyncSession, project_id: str, webhook_id: str, before: str | None, limit: int
) -> DeliveryList:
    repo = WebhookRepository(session)
    row = await _webhook(repo, project_id, webhook_id)
    page = await repo.page(row.id, before, limit)
    return DeliveryList(
        deliveries=[delivery_out(d) for d in page.items], next=page.next(lambda d: d.id)
    )


REPLAY_TRIES = 5  # replays of one delivery at once each take the next number; a few race


async def replay(
    session: AsyncSession, project_id: str, webhook_id: str, delivery_id: str
) -> DeliveryOut:
    """Send a delivery's event again, now, as a new delivery (the same body and
    ``webhook-id``, a fresh round of attempts); the first one keeps its record."""
    repo = WebhookRepository(session)
    hook = await _webhook(repo, project_id, webhook_id)
    first = None
    if is_valid(delivery_id.upper()):
        first = await repo.delivery(hook.id, delivery_id.upper())
    if first is None:
        raise NotFound(f"delivery {delivery_id[:26]!r} not found")
    if not hook.enabled:
        raise Conflict(f"the webhook is disabled ({hook.disabled_reason}): register it again")
    # Read now: a rollback below expires the rows, and an async session loads nothing lazily.
    hook_id, seq, kind, message_id, body = (
        hook.id, first.event_seq, first.event_type, first.message_id, first.body
    )  # fmt: skip
    for _ in range(REPLAY_TRIES):
        now = utcnow()
        again = WebhookDelivery(
            id=new_id(), webhook_id=hook_id, event_seq=seq, event_type=kind,
            message_id=message_id, replay=await repo.next_replay(hook_id, seq), body=body,
            status="pending", attempts=0, next_attempt_at=now, created_at=now,
        )  # fmt: skip
        repo.add(again)
        try:
            await session.commit()
        except IntegrityError:  # another replay of it took this number at the same moment
            await session.rollback()
            continue
        return delivery_out(again)
    raise Conflict("the delivery is being replayed by other requests at this moment: try again")


def operator_key(settings: Settings) -> bytes | None:
    """The operator webhook's signing key (None when there is no operator webhook);
    ``ValidationFailed`` naming the setting when the URL or secret is wrong."""
    if not settings.operator_webhook_url:
        return None
    try:
        target = targets.parse(settings.operator_webhook_url)
        targets.check_literal(target, settings.webhook_allow_private)
    except ValidationFailed as err:
        raise ValidationFailed(
            f"invalid setting AGENTID_OPERATOR_WEBHOOK_URL: {err.message}"
        ) from None
    if settings.operator_webhook_secret is None:
        raise ValidationFailed(
            "AGENTID_OPERATOR_WEBHOOK_SECRET is required with AGENTID_OPERATOR_WEBHOOK_URL:"
            " whsec_ and the base64 of 32 random bytes"
            " (python -c \"import base64,os;print('whsec_'+base64.b64encode(os.urandom(32))"
            '.decode())")'
        )
    try:
        return signing.secret_key(settings.operator_webhook_secret.get_secret_value())
    except ValidationFailed as err:
        raise ValidationFailed(
            f"invalid setting AGENTID_OPERATOR_WEBHOOK_SECRET: {err.message}"
        ) from None


async def sync_operator(rt: Runtime, session: AsyncSession) -> None:
    """The operator's webhook as the settings say: there (with the URL and key they give,
    taking escalations written from now on when it is new), or gone with its deliveries."""
    key = operator_key(rt.settings)
    repo = WebhookRepository(session)
    row = await repo.operator()
    if key is None or rt.settings.operator_webhook_url is None:
        if row is not None:
            await repo.remove(row.id)
        return
    if row is None:
        row = Webhook(id=OPERATOR_ID, project_id=None, after_seq=await repo.newest_event())
        repo.add(row)
    row.url = rt.settings.operator_webhook_url
    row.events = sorted(kind.value for kind in OPERATOR_KINDS)
    row.secret_sealed = rt.secrets.seal(key)
    row.enabled, row.disabled_reason = True, None
    row.created_at = row.created_at or utcnow()


async def reseal_secrets(session: AsyncSession, box: SecretBox) -> int:
    """Every webhook's key sealed again under the current service key; how many. Part of
    ``agentid secrets rotate``'s one transaction."""
    rows = await WebhookRepository(session).every_webhook()
    for row in rows:
        row.secret_sealed = box.reseal(row.secret_sealed, what=f"webhook {row.id}'s secret")
    return len(rows)
