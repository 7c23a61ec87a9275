"""Every reply the SMTP listener writes itself, named once: the handler, the listener and
the tests import these names (as aiosmtpd's ``testing/statuscodes.py`` does for its own).

A 421 ends the session: the listener writes it and closes the connection. Replies that
aiosmtpd writes for us (syntax errors, commands out of order) are not here.
"""

from __future__ import annotations

# 2xx, 3xx: the transaction moves on
RECIPIENT_OK = "250 2.1.5 Recipient OK"
QUEUED_AS = "250 2.0.0 OK queued as {ids}"  # .format(ids=...)
DATA_OK = "250 OK"  # only when the handler gives no reply of its own
START_DATA = "354 End data with <CR><LF>.<CR><LF>"

# 421: the session ends here
SHUTTING_DOWN = "421 4.3.2 Service shutting down, try again later"
TIMED_OUT = "421 4.4.2 Error: timeout exceeded, closing connection"
TOO_MANY_CONNECTIONS = "421 4.7.0 Error: too many connections, try again later"
TOO_MANY_FROM_CLIENT = "421 4.7.0 Error: too many connections from your address, try again later"
TOO_MANY_JUNK_COMMANDS = "421 4.7.0 Error: too many commands without mail, closing connection"
TOO_MANY_ERRORS = "421 4.7.0 Error: too many errors, closing connection"

# 4xx: try again later
NOT_STORED = "451 4.3.0 Could not store the message; try again later"
INTERNAL_ERROR = "451 4.3.0 Internal error"
TOO_MANY_RECIPIENTS = "452 4.5.3 Too many recipients"

# 5xx: refused
DATA_SYNTAX = "501 5.5.4 Syntax: DATA"
NO_HELO_IN_LMTP = '500 5.5.1 Error: command "{verb}" not recognized (LMTP: LHLO)'  # .format
NEED_RCPT = "503 5.5.1 Error: need RCPT command"
TOO_BIG = "552 5.3.4 Message size exceeds fixed maximum message size"
BARE_REFUSED = "550 5.5.2 Message contains bare CR or LF (line endings must be CRLF)"
NUL_REFUSED = "550 5.6.0 Message contains NUL characters"

# 5xx to one recipient (routing.py's refusals)
RELAY_DENIED_REPLY = "550 5.7.1 Relay access denied: we do not host that domain"
NO_MAILBOX_REPLY = "550 5.1.1 No such mailbox here"
BAD_ADDRESS_REPLY = "553 5.1.3 Bad recipient address syntax"


def is_error(reply: str) -> bool:
    """A 4xx or 5xx reply (its last line), other than a 421 that ends the session anyway:
    what the per-session error limit counts."""
    final = len(reply) < 4 or reply[3] != "-"
    return final and reply[:1] in ("4", "5") and not reply.startswith("421")
