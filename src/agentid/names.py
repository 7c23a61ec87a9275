"""Names every feature shares: project slugs, domains (IDN-aware) and email addresses.

A bottom module: it imports no feature package, and features import it.
"""

from __future__ import annotations

import re

import idna

from agentid.errors import ValidationFailed

# RFC 5321 dot-atom local parts; quoted local parts are not offered for aliases.
_LOCAL = re.compile(r"^[a-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*$")
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
SLUG_PATTERN = r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$"  # a project id: a DNS label
SLUG = re.compile(SLUG_PATTERN)
# A name or label on one line: no control characters (NUL cannot be stored) and, as a
# pattern makes pydantic check the string, no lone surrogates (not encodable).
ONE_LINE = r"^[^\x00-\x1f\x7f]*$"


def a_label(domain: str) -> str:
    """A domain in its ASCII (A-label) form: UTS #46 non-transitional mapping, then IDNA
    2008, so ``bücher.test`` and ``xn--bcher-kva.test`` are one domain. Raises UnicodeError
    for a name IDNA refuses."""
    name = domain.strip().rstrip(".")
    if name.isascii():
        return name.lower()
    return idna.encode(name, uts46=True, transitional=False).decode("ascii")


def u_label(domain: str) -> str:
    """A domain as people read it (``xn--bcher-kva.test`` -> ``bücher.test``)."""
    try:
        return str(idna.decode(domain))
    except idna.IDNAError:
        return domain


def split(address: str) -> tuple[str, str] | None:
    """(local, domain), the local part lowercased and the domain as its lowercase A-label,
    or None when ``address`` is not local@domain."""
    local, sep, domain = address.strip().strip("<>").rpartition("@")
    if not sep or not local or not domain:
        return None
    try:
        return local.lower(), a_label(domain)
    except UnicodeError:
        return local.lower(), domain.lower().rstrip(".")  # refused later: no such domain


def normalize(address: str) -> str:
    parts = split(address)
    if parts is None:
        raise ValidationFailed(f"not an email address: {address[:100]!r}")
    return f"{parts[0]}@{parts[1]}"


def valid_local_part(local: str) -> bool:
    return len(local) <= 64 and _LOCAL.match(local) is not None


def normalize_domain(domain: str) -> str:
    """A lowercase hostname with at least two labels, IDNs as punycode."""
    try:
        name = a_label(domain)
    except UnicodeError as exc:
        raise ValidationFailed(f"not a domain name: {domain[:100]!r}") from exc
    labels = name.split(".")
    if len(name) > 253 or len(labels) < 2 or not all(_LABEL.match(lb) for lb in labels):
        raise ValidationFailed(f"not a domain name: {domain[:100]!r}")
    return name
