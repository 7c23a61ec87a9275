"""The long-lived parts ``create_app`` builds once and keeps on ``app.state``, as route
dependencies: the outbox sender, the webhook dispatcher, the provider transports. Routes of
several features use each (the outbox sender: sending, bounces, the web pages' retry), so
they are declared here, once. The runtime is ``agentid.auth.RuntimeDep``."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from agentid.auth import app_state
from agentid.email.outbound.sender import OutboxSender
from agentid.providers.registry import Transports
from agentid.webhooks.dispatcher import WebhookDispatcher

SenderDep = Annotated[OutboxSender, Depends(app_state("outbox"))]
DispatcherDep = Annotated[WebhookDispatcher, Depends(app_state("webhooks"))]
# the transports the app's adapters talk through
TransportsDep = Annotated[Transports, Depends(app_state("transports"))]
