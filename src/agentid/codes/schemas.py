"""Shapes of the codes API."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class CodeOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    id: str
    value: str
    kind: str  # code | link
    channel: str  # email | sms
    message_id: str
    from_: str | None = Field(serialization_alias="from", validation_alias="from")
    to: list[str]
    received_at: datetime
    confidence: float
    used: bool


class CodeList(BaseModel):
    codes: list[CodeOut]
    next: str | None = None  # pass as ``before`` for the next (older) page
