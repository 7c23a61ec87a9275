"""agentid: identity infrastructure for AI agents (email, phone, verification codes)."""
