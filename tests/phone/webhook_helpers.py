"""Posting signed SMS webhooks to a running agentid as Twilio and Plivo post them: the
signature made over the public URL (``PUBLIC``), the request sent to the loopback port."""

from __future__ import annotations

import secrets
from urllib.parse import urlencode

import httpx

from agentid.providers.phone.signatures import plivo_v3_signature
from agentid.providers.phone.signatures import twilio_signature
from tests.conftest import Service

PUBLIC = "https://agentid.example"
Params = list[tuple[str, str]]


def twilio_form(to: str, sender: str, body: str, sid: str | None = None) -> Params:
    """The fields Twilio posts for an inbound SMS (a real delivery's set)."""
    sid = sid or "SM" + secrets.token_hex(16)
    return [
        ("ToCountry", "US"),
        ("ToState", "CA"),
        ("SmsMessageSid", sid),
        ("NumMedia", "0"),
        ("SmsSid", sid),
        ("SmsStatus", "received"),
        ("Body", body),
        ("To", to),
        ("NumSegments", "1"),
        ("MessageSid", sid),
        ("AccountSid", "AC" + "0" * 32),
        ("From", sender),
        ("ApiVersion", "2010-04-01"),
    ]


def plivo_form(to: str, sender: str, text: str, uuid: str | None = None) -> Params:
    return [
        ("From", sender.removeprefix("+")),
        ("To", to.removeprefix("+")),
        ("Text", text),
        ("Type", "sms"),
        ("MessageUUID", uuid or secrets.token_hex(16)),
        ("Units", "1"),
        ("TotalRate", "0.00000"),
        ("TotalAmount", "0.00000"),
        ("MessageIntent", ""),
    ]


async def post_twilio(
    service: Service,
    params: Params,
    token: str,
    *,
    signed_url: str = PUBLIC + "/webhooks/twilio/sms",
    signature: str | None = None,
    sign: bool = True,
) -> httpx.Response:
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if sign:
        headers["X-Twilio-Signature"] = signature or twilio_signature(token, signed_url, params)
    async with httpx.AsyncClient(base_url=service.running.url, timeout=30) as client:
        return await client.post("/webhooks/twilio/sms", content=urlencode(params), headers=headers)


async def post_plivo(
    service: Service,
    params: Params,
    token: str,
    *,
    header: str = "X-Plivo-Signature-V3",
    nonce: str = "90135628711045",
    sign: bool = True,
) -> httpx.Response:
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if sign:
        url = PUBLIC + "/webhooks/plivo/sms"
        headers[header] = plivo_v3_signature(token, url, nonce, params)
        headers["X-Plivo-Signature-V3-Nonce"] = nonce
    async with httpx.AsyncClient(base_url=service.running.url, timeout=30) as client:
        return await client.post("/webhooks/plivo/sms", content=urlencode(params), headers=headers)
