"""Which site a code came from: the registrable domain (the public suffix plus one label,
``mail.notion.so`` -> ``notion.so``, ``a.example.co.uk`` -> ``example.co.uk``) of the
message's From address, or of the domain agentid's verdict found aligned with it.

The suffix list is the copy bundled with ``publicsuffixlist`` (ICANN section), read offline:
no list is ever fetched at run time. A domain with no known public
suffix (``evil.example``, ``localhost``, an IP address) has no registrable domain, so it
belongs to no site. Domains are compared as lowercase A-labels, so a look-alike written in
Unicode is its own ``xn--`` domain, not the site it imitates.
"""

from __future__ import annotations

from collections.abc import Iterable
from collections.abc import Mapping
from functools import cache
from typing import TYPE_CHECKING
from typing import Any

from agentid.errors import ValidationFailed
from agentid.names import a_label
from agentid.names import split

if TYPE_CHECKING:
    from publicsuffixlist import PublicSuffixList

MAX_SITES = 10  # site= given more often is refused (each one is a filter on the query)


@cache
def _suffixes() -> PublicSuffixList:
    """The list, read on the first question (about 3 MB a service asked none never pays):
    ICANN suffixes only, and an unknown top-level domain is no suffix at all."""
    from publicsuffixlist import PublicSuffixList

    return PublicSuffixList(only_icann=True, accept_unknown=False)


def registrable(domain: str) -> str | None:
    """``domain``'s registrable domain as a lowercase A-label, or None when it has none."""
    try:
        name = a_label(domain)
    except UnicodeError:
        return None
    if not name or len(name) > 253:
        return None
    found = _suffixes().privatesuffix(name)
    return found.lower() if found else None


def sites(given: Iterable[str]) -> tuple[str, ...]:
    """The ``site=`` filters as registrable domains (``www.notion.so`` means ``notion.so``);
    422 for one that has none (``co.uk``, ``localhost``) or for too many."""
    out: list[str] = []
    for value in given:
        if "\x00" in value:
            raise ValidationFailed("site must not contain NUL characters")
        domain = registrable(value.strip().removeprefix("@")) if value.strip() else None
        if domain is None:
            raise ValidationFailed(
                f"site must be a domain under a public suffix, like notion.so: {value[:100]!r}"
            )
        if domain not in out:
            out.append(domain)
    if len(out) > MAX_SITES:
        raise ValidationFailed(f"at most {MAX_SITES} sites")
    return tuple(out)


def sender_sites(sender: str | None, auth_results: Mapping[str, Any] | None) -> set[str]:
    """The sites a message speaks for: its From address's registrable domain, and that of
    the domain agentid's own verdict found aligned with it."""
    found: set[str] = set()
    parts = split(sender) if sender else None
    if parts is not None and (domain := registrable(parts[1])):
        found.add(domain)
    return found | _signing_sites(auth_results)


def signed_by(auth_results: Mapping[str, Any] | None) -> str | None:
    """The sites a verdict's passing signatures speak for, as ``messages.signed_by``
    stores them: each one between newline characters, so a LIKE on newline, site, newline
    finds it; None when there is none."""
    found = _signing_sites(auth_results)
    return "\n" + "\n".join(sorted(found)) + "\n" if found else None


def _signing_sites(auth_results: Mapping[str, Any] | None) -> set[str]:
    """The site of the domain agentid's verdict found aligned with From (a DKIM signature
    that passed, or SPF): a signature for another domain speaks for no site."""
    aligned = auth_results.get("aligned_domain") if auth_results else None
    domain = registrable(str(aligned)) if aligned else None
    return {domain} if domain else set()


def belongs(
    sender: str | None, auth_results: Mapping[str, Any] | None, wanted: tuple[str, ...]
) -> bool:
    """Whether a message from ``sender`` (with ``auth_results``) is from one of ``wanted``."""
    return not sender_sites(sender, auth_results).isdisjoint(wanted)
