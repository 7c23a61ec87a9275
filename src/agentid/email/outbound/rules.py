"""What may leave, decided before anything is queued: the sender, the project's send
policy, its rate and its domain's warm-up quota.

Warm-up: new domains have no reputation, and mailbox providers throttle or junk a
domain that starts by sending thousands. A project's relayed recipients per UTC day are
capped at ``AGENTID_WARMUP_START`` on the day of its first relayed message, doubling each
day after up to ``AGENTID_WARMUP_MAX``. Local deliveries (to addresses hosted here) are
not counted: they never reach the outside.
"""

from __future__ import annotations

from datetime import datetime
from datetime import time
from datetime import timedelta

from agentid.config import Settings
from agentid.email.outbound.compose import address
from agentid.email.outbound.compose import domain_of
from agentid.errors import Forbidden
from agentid.errors import RateLimited
from agentid.errors import ValidationFailed
from agentid.names import normalize_domain
from agentid.store.tables import Project


def sender(settings: Settings, project: Project, requested: str | None) -> str:
    """The From address: the project's primary one unless another of its own is given."""
    primary = project.primary_address
    if primary is None:
        raise Forbidden("the project has no email yet: provision it first")
    chosen = address(requested, "from") if requested else primary
    if project.domain is None:  # the shared-domain fallback
        if chosen.lower() != primary.lower():
            raise Forbidden(f"a project on the shared domain sends from {primary} only")
        if settings.shared_domain_dkim_key is None:
            raise Forbidden(
                "the shared domain has no DKIM key (AGENTID_SHARED_DOMAIN_DKIM_KEY): mail "
                "from it would not be delivered, so projects on it cannot send"
            )
        return primary
    if _ascii_domain(chosen) != _ascii_domain(f"x@{project.domain}"):
        raise Forbidden(f"from must be an address on the project's domain {project.domain}")
    return chosen


def _ascii_domain(address_: str) -> str:
    """An address's domain as its lower-case A-label (``bücher.example`` and
    ``xn--bcher-kva.example`` are one domain); the policy stores them so."""
    try:
        return normalize_domain(domain_of(address_))
    except ValidationFailed:
        return domain_of(address_)


def _covers(domain: str, listed: list[str]) -> bool:
    return any(domain == d or domain.endswith("." + d) for d in (x.lower() for x in listed))


def policy(recipients: list[str], allow: list[str], block: list[str]) -> None:
    """Refuse (403) a recipient whose domain is blocked, or outside a non-empty allow list."""
    for recipient in recipients:
        domain = _ascii_domain(recipient)
        if _covers(domain, block):
            raise Forbidden(f"{recipient}: the project may not send to {domain}")
        if allow and not _covers(domain, allow):
            raise Forbidden(f"{recipient}: {domain} is not in the project's send_allow list")


def rate(settings: Settings, nth_newest: datetime | None, now: datetime) -> None:
    """At most ``AGENTID_SEND_RATE_PER_MINUTE`` messages queued in any minute:
    ``nth_newest`` is when the project queued the message that many back."""
    limit = settings.send_rate_per_minute
    if nth_newest is not None and nth_newest > now - timedelta(minutes=1):
        resets = nth_newest + timedelta(minutes=1)
        raise RateLimited(f"at most {limit} messages a minute per project", resets_at=resets)


def day_start(now: datetime) -> datetime:
    return datetime.combine(now.date(), time(), tzinfo=now.tzinfo)


def daily_quota(settings: Settings, first_relayed: datetime | None, now: datetime) -> int:
    """Relayed recipients allowed today (UTC) by the warm-up schedule."""
    if first_relayed is None:
        return settings.warmup_start
    days = max(0, (now.date() - first_relayed.date()).days)
    if days > 40:  # long past any max: no need for a huge power of two
        return settings.warmup_max
    return min(settings.warmup_max, settings.warmup_start * (1 << days))


def warmup(
    settings: Settings,
    first_relayed: datetime | None,
    relayed_today: int,
    adding: int,
    now: datetime,
) -> None:
    quota = daily_quota(settings, first_relayed, now)
    if adding and relayed_today + adding > quota:
        resets = day_start(now) + timedelta(days=1)
        raise RateLimited(
            f"the domain's warm-up quota is {quota} relayed recipients today "
            f"({relayed_today} used, {adding} more asked); it grows daily",
            resets_at=resets,
        )
