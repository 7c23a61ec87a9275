"""Phone providers: Twilio, Plivo and the sandbox (``agentid.providers.base.PhoneProvider``)."""
