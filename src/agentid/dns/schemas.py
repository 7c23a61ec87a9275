"""DNS shapes shared by the API, the client and the CLI."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel
from pydantic import ConfigDict


class DnsRecordOut(BaseModel):
    """One planned record; ``status`` is ``planned`` until applied, then the outcome of the
    last apply: created, updated, unchanged, error (with ``error``, the provider's reason)
    or conflict (``found``: the records agentid did not create that stand in its way)."""

    role: str  # mx, host, spf, dkim, relay_dkim, dmarc
    type: str
    name: str
    value: str
    priority: int | None = None
    ttl: int
    status: str
    error: str | None = None
    found: list[str] = []  # conflict: what stands in the way ("10 mx.other.test", a TXT...)


class DnsCheckOut(BaseModel):
    type: str
    name: str
    expected: str
    found: list[str]
    status: str  # ok | missing | wrong | error
    reason: str | None = None  # error: what the resolver said


class DnsVerifyOut(BaseModel):
    status: str  # verified | unverified
    checked_at: datetime
    records: list[DnsCheckOut]


class DnsPlanOut(BaseModel):
    domain: str
    status: str  # planned | applied | partial | verified | unverified
    applied_at: datetime | None
    records: list[DnsRecordOut]
    ptr: list[DnsCheckOut]  # what the VM provider must set: expected only, until verified
    zone: str  # the records as a BIND zone fragment
    verification: DnsVerifyOut | None = None


class DnsApplyRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    force: bool = False  # replace records agentid did not create that conflict


class DnsApplyOut(BaseModel):
    domain: str
    zone: str  # the zone the records went to
    provider: str  # its scheme: zonefile, cloudflare, route53...
    status: str  # applied | partial
    records: list[DnsRecordOut]
