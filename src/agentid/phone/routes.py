"""HTTP routes for a project's phone number and its SMS (the behaviour is in
``agentid.phone.service`` and ``agentid.phone.inbound``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query
from fastapi import Request
from fastapi import status

from agentid.api.paging import LongPoll
from agentid.api.paging import SmsWindow
from agentid.api.project import ProjectAdminDep
from agentid.api.project import ProjectReadDep
from agentid.api.project import project_router
from agentid.api.responses import DELETES
from agentid.api.responses import WITH_BODY
from agentid.api.responses import errors
from agentid.api.session import SessionDep
from agentid.api.state import TransportsDep
from agentid.auth import RuntimeDep
from agentid.errors import Conflict
from agentid.errors import ProviderAuth
from agentid.errors import ProviderRateLimited
from agentid.errors import ProviderRejected
from agentid.errors import ProviderUnavailable
from agentid.filters import path_id
from agentid.filters import text_filter
from agentid.phone import forwarder_service
from agentid.phone import inbound
from agentid.phone import service
from agentid.phone.repository import SmsQuery
from agentid.phone.schemas import ForwarderCreate
from agentid.phone.schemas import ForwarderCreated
from agentid.phone.schemas import ForwarderList
from agentid.phone.schemas import GcRequest
from agentid.phone.schemas import GcResult
from agentid.phone.schemas import PhoneNumberOut
from agentid.phone.schemas import PhonePatch
from agentid.phone.schemas import ProvisionRequest
from agentid.phone.schemas import SmsDetail
from agentid.phone.schemas import SmsList

router = project_router("/phone", "phone")
PROVIDER = (ProviderAuth, ProviderRejected, ProviderRateLimited, ProviderUnavailable)


@router.post(
    "/provision",
    status_code=status.HTTP_201_CREATED,
    response_model=PhoneNumberOut,
    responses=errors(Conflict, *PROVIDER, *WITH_BODY),
)
async def provision(
    project: ProjectAdminDep,
    body: ProvisionRequest,
    rt: RuntimeDep,
    session: SessionDep,
    made: TransportsDep,
) -> PhoneNumberOut:
    """Buy a number with SMS from the project's provider, its SMS webhook set to
    ``AGENTID_PUBLIC_URL``; one per project (409 for a second)."""
    return await service.provision(rt, session, project.id, body, made)


@router.get("", response_model=PhoneNumberOut)
async def show(
    project: ProjectReadDep, rt: RuntimeDep, session: SessionDep, made: TransportsDep
) -> PhoneNumberOut:
    """The project's pending or active number; a pending one is asked about again at its
    provider first (active once the provider completed the purchase)."""
    return await service.show(rt, session, project.id, made)


@router.patch("", response_model=PhoneNumberOut, responses=errors(*WITH_BODY))
async def patch(project: ProjectAdminDep, body: PhonePatch, session: SessionDep) -> PhoneNumberOut:
    """``{"keep": true}`` pins the number: the inactivity collector leaves it."""
    return await service.pin(session, project.id, body.keep)


@router.delete("", response_model=PhoneNumberOut, responses=errors(Conflict, *PROVIDER))
async def release(
    project: ProjectAdminDep, rt: RuntimeDep, session: SessionDep, made: TransportsDep
) -> PhoneNumberOut:
    """Release the number at the provider; its SMS are kept (under the project's retention)."""
    return await service.release(rt, session, project.id, made)


@router.post("/gc", response_model=GcResult, responses=errors(*PROVIDER, *WITH_BODY))
async def collect(
    project: ProjectAdminDep,
    body: GcRequest,
    rt: RuntimeDep,
    session: SessionDep,
    made: TransportsDep,
) -> GcResult:
    """Release the project's number if unpinned and without SMS for ``inactive_days``."""
    return await service.collect(
        rt, session, project.id, body.inactive_days, made, dry_run=body.dry_run
    )


@router.get("/messages", response_model=SmsList, response_model_by_alias=True)
async def messages(
    project: ProjectReadDep,
    rt: RuntimeDep,
    session: SessionDep,
    window: SmsWindow,
    from_: Annotated[str | None, Query(alias="from", max_length=64)] = None,
    contains: Annotated[str | None, Query(max_length=500)] = None,
    wait: LongPoll = 0,
) -> SmsList:
    """Inbound SMS, newest first, with the codes and links found in them; ``wait=N``
    holds an empty answer until one arrives."""
    q = SmsQuery(
        from_=text_filter(from_, "from"),
        contains=text_filter(contains, "contains"),
        window=window,
    )
    found, nxt = await inbound.messages(rt, session, project.id, q, wait)
    return SmsList(messages=found, next=nxt)


@router.get("/messages/{sms_id}", response_model=SmsDetail, response_model_by_alias=True)
async def message(project: ProjectReadDep, sms_id: str, session: SessionDep) -> SmsDetail:
    """One SMS with every field the provider sent (MMS media URLs, segments, ...)."""
    return await inbound.detail(session, project.id, path_id(sms_id, "SMS"))


@router.post(
    "/forwarders",
    status_code=status.HTTP_201_CREATED,
    response_model=ForwarderCreated,
    responses=errors(*WITH_BODY),
)
async def create_forwarder(
    project: ProjectAdminDep,
    body: ForwarderCreate,
    request: Request,
    rt: RuntimeDep,
    session: SessionDep,
) -> ForwarderCreated:
    """A human's own phone as an SMS source: the ``webhook_url`` its forwarding app POSTs
    to (the URL is the credential) and a Standard Webhooks ``secret``, shown once."""
    base = str(request.base_url)
    return await forwarder_service.create(rt, session, project.id, body, base)


@router.get("/forwarders", response_model=ForwarderList)
async def list_forwarders(project: ProjectAdminDep, session: SessionDep) -> ForwarderList:
    """The project's forwarders (never their URL nor secret)."""
    return await forwarder_service.listed(session, project.id)


@router.delete("/forwarders/{forwarder_id}", **DELETES)
async def revoke_forwarder(
    project: ProjectAdminDep, forwarder_id: str, session: SessionDep
) -> None:
    """Revoke a forwarder: its URL answers 404 from now on."""
    await forwarder_service.revoke(session, project.id, path_id(forwarder_id, "forwarder"))
