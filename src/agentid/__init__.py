"""agentid: identity infrastructure for AI agents (email, phone, verification codes)."""

from agentid import native as _native

_native.guard()  # before anything imports a compiled module: never a stale one
