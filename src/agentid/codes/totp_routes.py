"""HTTP routes for a project's authenticators (TOTP): add, list, the current code, delete.
A code is a login, so reading one takes the ``write`` scope; listing takes ``read``."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path
from fastapi import Response

from agentid.api.project import ProjectReadDep
from agentid.api.project import ProjectWriteDep
from agentid.api.project import project_router
from agentid.api.responses import CREATES
from agentid.api.responses import DELETES
from agentid.api.session import SessionDep
from agentid.auth import RuntimeDep
from agentid.codes import totp_service
from agentid.codes.schemas import TotpCode
from agentid.codes.schemas import TotpCreate
from agentid.codes.schemas import TotpList
from agentid.codes.schemas import TotpOut

router = project_router("/totp", "totp")
Label = Annotated[str, Path(max_length=100)]


@router.post("", response_model=TotpOut, **CREATES)
async def add_totp(
    project: ProjectWriteDep, body: TotpCreate, rt: RuntimeDep, session: SessionDep
) -> TotpOut:
    """Store an authenticator secret (``uri``: the otpauth://totp/ URI of the site's QR
    code, or ``secret`` with ``digits``, ``period``, ``algorithm``), sealed with the
    service key and never shown again; 409 when the label is taken."""
    return await totp_service.add(rt, session, project.id, body)


@router.get("", response_model=TotpList)
async def list_totp(project: ProjectReadDep, session: SessionDep) -> TotpList:
    """The project's authenticators by label: issuer, account, parameters; no secret."""
    return await totp_service.listed(session, project.id)


@router.get("/{label}/code", response_model=TotpCode)
async def totp_code(
    project: ProjectWriteDep, label: Label, rt: RuntimeDep, session: SessionDep, response: Response
) -> TotpCode:
    """The current code (RFC 6238) and the seconds until the next one."""
    response.headers["Cache-Control"] = "no-store"
    return await totp_service.current_code(rt, session, project.id, label)


@router.delete("/{label}", **DELETES)
async def delete_totp(project: ProjectWriteDep, label: Label, session: SessionDep) -> None:
    """Forget an authenticator (its secret is deleted) → 204."""
    await totp_service.remove(session, project.id, label)
