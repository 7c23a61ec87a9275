"""Shapes of a project's own provider accounts, shared by the API, the client and (later) MCP.

A provider URL carries credentials: it comes in as a ``SecretStr`` (no repr, no log line
shows it) and never goes out; what goes out is its scheme, host and keyed fingerprint.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel
from pydantic import ConfigDict
from pydantic import Field
from pydantic import SecretStr

MAX_URL_CHARS = 2048


class ProviderKind(StrEnum):
    """What a provider is for: ``AGENTID_RELAY_URL``, ``AGENTID_PHONE_URL``, ``AGENTID_DNS_URL``."""

    RELAY = "relay"
    PHONE = "phone"
    DNS = "dns"


class AccountSource(StrEnum):
    """Whose URL a project uses for one kind of provider."""

    PROJECT = "project"  # its own account (PUT /projects/{id}/providers/{kind})
    SERVICE = "service"  # the service-wide AGENTID_<KIND>_URL
    NONE = "none"  # neither: the feature is off for this project


class ProviderAccountSet(BaseModel):
    """``PUT /projects/{id}/providers/{kind}``: the project's own provider URL."""

    model_config = ConfigDict(extra="forbid")

    url: SecretStr = Field(min_length=1, max_length=MAX_URL_CHARS)


class ProviderAccountOut(BaseModel):
    """One kind of provider as a project uses it, never with its credentials."""

    kind: ProviderKind
    source: AccountSource
    scheme: str | None = None  # "smtp", "twilio+http", ...
    host: str | None = None
    fingerprint: str | None = None  # HMAC-SHA256 of the URL under the service key, 12 hex
    updated_at: datetime | None = None  # when the project's own account was last set


class ProviderAccountList(BaseModel):
    providers: list[ProviderAccountOut]  # one per kind: relay, phone, dns
