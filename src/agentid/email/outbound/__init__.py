"""Sending: what an agent's mail becomes on its way out (one module per concern).

schemas.py       the sending API's shapes: the request, the outbox, recipients, policy
compose.py       the message built once: addresses checked, headers, MIME
rules.py         what may leave: the sender, the send policy, the rate, the warm-up quota
guard.py         the received-code guard: no received code or link leaves
signing.py       who signs (us or the relay) and with which key
dkim_sign.py     DKIM-Signature (rsa-sha256, relaxed/relaxed) with the hosted domain's key
service.py       queueing (every check first, then one transaction) and reading the outbox
sender.py        the outbox worker: local delivery or the relay, retries, suppressions
policy.py        a project's send policy and suppression list
repository.py    the statements of all of the above
routes.py        the HTTP routes; bounce_routes.py the relays' bounce webhooks
"""
