"""What stands between a connection and the routes, so limits come before work, and what
every route is handed.

gate.py          TokenGate: a request with no valid token is refused (401) unread
limits.py        BodyLimit: a body over its route's cap is refused (413) unbuffered
session.py       the request's session, one per request
project.py       the project a route works on: visibility, existence and scope in one query
paging.py        what a list route takes: ``limit`` and ``before`` (the previous ``next``)
responses.py     errors as the JSON envelope ``{"error": {"code", "message"}}``, and the
                 error statuses each route declares in the OpenAPI schema
store_errors.py  store errors that pass by themselves as 503 store_unavailable
"""
