"""Store errors as API answers.

One that may pass by itself (``agentid.store.engines.transient``: a locked database, a
full disk, a dropped or refused connection, an exhausted pool) is 503 store_unavailable,
and the client may retry. Its message is fixed: the driver's words (which may quote SQL or
parameters) go to the log only. Any other store error is a bug and stays a 500.
"""

from __future__ import annotations

import logging

from agentid.errors import StoreUnavailable
from agentid.store.engines import describe
from agentid.store.engines import transient

log = logging.getLogger("agentid.api")

MESSAGE = "the database cannot answer now (locked, full or unreachable); retry shortly"


def unavailable(exc: Exception) -> StoreUnavailable | None:
    """The 503 a store error becomes when it may pass by itself; None when it will not."""
    if not transient(exc):
        return None
    log.warning("store unavailable: %s", describe(exc))
    return StoreUnavailable(MESSAGE)
