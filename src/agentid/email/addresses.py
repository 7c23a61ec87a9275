"""Email address handling shared by routing, aliases and the inbox."""

from __future__ import annotations

import re

from agentid.errors import ValidationFailed

# RFC 5321 dot-atom local parts; quoted local parts are not offered for aliases.
_LOCAL = re.compile(r"^[a-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*$")
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")


def split(address: str) -> tuple[str, str] | None:
    """(local, domain) lowercased, or None when ``address`` is not local@domain."""
    local, sep, domain = address.strip().strip("<>").rpartition("@")
    if not sep or not local or not domain:
        return None
    return local.lower(), domain.lower().rstrip(".")


def normalize(address: str) -> str:
    parts = split(address)
    if parts is None:
        raise ValidationFailed(f"not an email address: {address[:100]!r}")
    return f"{parts[0]}@{parts[1]}"


def valid_local_part(local: str) -> bool:
    return len(local) <= 64 and _LOCAL.match(local) is not None


def normalize_domain(domain: str) -> str:
    """A lowercase hostname with at least two labels, IDNs as punycode."""
    name = domain.strip().rstrip(".").lower()
    try:
        name = name.encode("idna").decode("ascii")
    except UnicodeError as exc:
        raise ValidationFailed(f"not a domain name: {domain[:100]!r}") from exc
    labels = name.split(".")
    if len(name) > 253 or len(labels) < 2 or not all(_LABEL.match(lb) for lb in labels):
        raise ValidationFailed(f"not a domain name: {domain[:100]!r}")
    return name
