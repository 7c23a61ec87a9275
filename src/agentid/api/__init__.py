"""What stands between a connection and the routes, so limits come before work.

gate.py          TokenGate: a request with no valid token is refused (401) unread
limits.py        BodyLimit: a body over its route's cap is refused (413) unbuffered
responses.py     errors as the JSON envelope ``{"error": {"code", "message"}}``
store_errors.py  store errors that pass by themselves as 503 store_unavailable
"""
