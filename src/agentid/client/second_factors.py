"""The client's calls for what an agent cannot read from its inbox: authenticator (TOTP)
codes, and escalations to the human operator. ``Client`` and ``AsyncClient`` both have them
(written once, like every call).

    with Client() as agent:
        agent.add_totp("github", "otpauth://totp/GitHub:me?secret=...&issuer=GitHub")
        print(agent.totp_code("github").code)
        asked = agent.escalate("code", "the bank sends its code by letter", service="bank.example")
        code = agent.wait_for_code(site="bank.example", timeout=300)   # the operator's answer
"""

from __future__ import annotations

from typing import TypedDict
from typing import Unpack

from agentid.client.calls import Call
from agentid.client.calls import CallGroup
from agentid.client.calls import endpoint
from agentid.client.calls import json_body
from agentid.client.calls import query
from agentid.client.calls import read_nothing
from agentid.client.calls import reads
from agentid.client.calls import segment
from agentid.codes.schemas import EscalationList
from agentid.codes.schemas import EscalationOut
from agentid.codes.schemas import TotpCode
from agentid.codes.schemas import TotpList
from agentid.codes.schemas import TotpOut


class TotpSecret(TypedDict, total=False):
    """An authenticator given by its parts instead of its URI (only what is given is sent)."""

    secret: str | None  # base32
    digits: int | None
    period: int | None  # seconds
    algorithm: str | None  # SHA1 | SHA256 | SHA512


class SecondFactors(CallGroup):
    """TOTP and escalation calls (see the module docstring)."""

    # -- TOTP -------------------------------------------------------------------------------

    @endpoint
    def add_totp(
        self,
        label: str,
        uri: str | None = None,
        *,
        project: str | None = None,
        **parts: Unpack[TotpSecret],
    ) -> Call[TotpOut]:
        """Store an authenticator under ``label`` (a slug): the site's ``otpauth://totp/``
        URI, or its base32 ``secret`` with ``digits``, ``period``, ``algorithm``. The
        secret is sealed and never returned."""
        body = json_body(label=label, uri=uri, **parts)
        return Call("POST", self._path(project, "totp"), reads(TotpOut), json=body)

    @endpoint
    def list_totp(self, project_id: str | None = None) -> Call[TotpList]:
        """The project's authenticators (labels, issuers, parameters; no secrets)."""
        return Call("GET", self._path(project_id, "totp"), reads(TotpList))

    @endpoint
    def totp_code(self, label: str, project: str | None = None) -> Call[TotpCode]:
        """The labelled authenticator's current code and its ``valid_for_seconds``."""
        path = self._path(project, f"totp/{segment(label)}/code")
        return Call("GET", path, reads(TotpCode))

    @endpoint
    def delete_totp(self, label: str, project: str | None = None) -> Call[None]:
        return Call("DELETE", self._path(project, f"totp/{segment(label)}"), read_nothing)

    # -- escalations ------------------------------------------------------------------------

    @endpoint
    def escalate(
        self,
        kind: str,
        reason: str,
        service: str | None = None,
        expires_in: int | None = None,
        *,
        project: str | None = None,
    ) -> Call[EscalationOut]:
        """Ask the operator for a ``code``, a ``link`` or ``other`` help. An answered code
        or link arrives like any other: ``wait_for_code(site=service)`` returns it."""
        body = json_body(kind=kind, reason=reason, service=service, expires_in=expires_in)
        return Call("POST", self._path(project, "escalations"), reads(EscalationOut), json=body)

    @endpoint
    def escalations(
        self, project_id: str | None = None, limit: int | None = None, before: str | None = None
    ) -> Call[EscalationList]:
        """The project's escalations, newest first."""
        path = self._path(project_id, "escalations")
        return Call("GET", path, reads(EscalationList), params=query(limit=limit, before=before))

    @endpoint
    def escalation(
        self, escalation_id: str, wait: float | None = None, *, project: str | None = None
    ) -> Call[EscalationOut]:
        """One escalation; with ``wait``, held until it is answered or expires."""
        path = self._path(project, f"escalations/{segment(escalation_id)}")
        return Call("GET", path, reads(EscalationOut), params=query(wait=wait), wait=wait)

    @endpoint
    def open_escalations(
        self, limit: int | None = None, before: str | None = None
    ) -> Call[EscalationList]:
        """Every project's open escalations, newest first (the operator's token)."""
        params = query(limit=limit, before=before)
        return Call("GET", "/escalations", reads(EscalationList), params=params)

    @endpoint
    def answer_escalation(
        self, project_id: str, escalation_id: str, value: str
    ) -> Call[EscalationOut]:
        """Answer an escalation (the operator's token): a code or link joins the project's
        codes at once."""
        path = f"/projects/{segment(project_id)}/escalations/{segment(escalation_id)}/answer"
        return Call("POST", path, reads(EscalationOut), json={"value": value})
