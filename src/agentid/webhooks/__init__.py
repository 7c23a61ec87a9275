"""Signed outbound webhooks (Standard Webhooks): a project's events posted to the URLs it
registered, and escalations of every project to the operator's URL.

``routes.py`` (HTTP), ``service.py`` (register, list, remove, deliveries, replay, the
operator's webhook), ``repository.py`` (every statement), ``schemas.py`` (the API's
shapes), ``payloads.py`` (what each event kind carries), ``signing.py`` (secrets and
signatures), ``targets.py`` (which URLs and addresses may be posted to), ``delivery.py``
(one POST, to the address that was checked) and ``dispatcher.py`` (the worker).
"""
