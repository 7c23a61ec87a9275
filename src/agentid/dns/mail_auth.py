"""Inbound authentication: agentid's own SPF, DKIM, ARC and DMARC verdict on one message.

Runs in a thread of the verdict stage (``agentid.email.inbound.verdicts``): dkimpy (DKIM
and ARC), pyspf (SPF) and dmarc (DMARC records and alignment) are synchronous libraries.
Every DNS question goes through ``Lookups``, bound by the message's deadline; an answer
that does not come in time is ``temperror`` for the check that asked, never an exception
out of here and never a lost message.

``authenticated`` is what the codes API filters on: DMARC passes; or, where the From
domain publishes no DMARC policy, a DKIM signature that passed is aligned (relaxed) with
the From domain. An ARC chain's verdict is recorded; it stands in for DMARC only when the
chain validates, the sealer of its first instance is trusted
(``AGENTID_TRUSTED_ARC_SEALERS``) and that instance's ARC-Authentication-Results said
``dmarc=pass``.
"""

from __future__ import annotations

import binascii
import logging
import threading
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

import authres
import authres.arc
import authres.dmarc
import dkim
import dmarc
import spf

from agentid.codes.sites import registrable
from agentid.dns.auth_lookups import Lookups
from agentid.dns.auth_lookups import TempFail

MAX_SIGNATURES = 8  # DKIM signatures checked per message; the rest are ignored
_quiet = logging.getLogger("agentid.auth.libraries")
_quiet.addHandler(logging.NullHandler())
_quiet.propagate = False  # dkimpy logs every failed signature at error level
_local = threading.local()


def _spf_lookup(name: str, qtype: str, strict: Any = True, timeout: Any = None) -> list[Any]:
    """pyspf's lookup hook (it picks its DNS library by assigning ``spf.DNSLookup``): the
    running check's own ``Lookups``."""
    lookups: Lookups | None = getattr(_local, "lookups", None)
    if lookups is None:  # pyspf outside a check: nothing here answers
        raise spf.TempError("DNS: no lookups for this thread")
    try:
        return lookups.spf(name, qtype)
    except TempFail as exc:
        raise spf.TempError(f"DNS {exc}") from None


spf.DNSLookup = _spf_lookup


@dataclass(frozen=True, slots=True)
class Envelope:
    """What the checks read: the client and its claims, and the message."""

    ip: str | None  # the client that handed it over (a trusted relay's view, if behind one)
    helo: str | None
    mail_from: str  # "" for the null reverse-path
    from_domain: str | None  # the RFC 5322 From domain; None when there is none (or several)
    raw: bytes


@dataclass(frozen=True, slots=True)
class Trust:
    authserv_id: str
    arc_sealers: frozenset[str] = frozenset()  # sealers whose chain may stand in for DMARC


def check(env: Envelope, lookups: Lookups, trust: Trust) -> dict[str, Any]:
    """The verdict, as stored in ``messages.auth_results`` (the ``header`` key holds the
    Authentication-Results value shown at the top of the message's headers)."""
    _local.lookups = lookups
    try:
        spf_result, spf_domain = _spf(env, lookups)
        helo_result = _spf_helo(env, lookups)
        signatures = _dkim(env.raw, lookups)
        arc = _arc(env.raw, lookups, trust)
    finally:
        _local.lookups = None
    dmarc_result, aligned, has_policy = _dmarc(
        env.from_domain, spf_result, spf_domain, signatures, lookups
    )
    if has_policy and dmarc_result != "pass" and arc["trusted_pass"]:
        dmarc_result, aligned = "pass", env.from_domain
    if has_policy:
        authenticated = dmarc_result == "pass"
    else:
        authenticated = aligned is not None and any(
            s["result"] == "pass" and _aligned(env.from_domain, s["domain"], relaxed=True)
            for s in signatures
        )
    verdict = {
        "spf": spf_result,
        "spf_domain": spf_domain,
        "spf_helo": helo_result,
        "dkim": signatures,
        "arc": arc["result"],
        "arc_sealers": arc["sealers"],
        "dmarc": dmarc_result,
        "from_domain": env.from_domain,
        "aligned_domain": aligned,
        "authenticated": authenticated,
    }
    return verdict | {"header": header(trust.authserv_id, verdict, env)}


def timed_out(authserv_id: str, from_domain: str | None = None) -> dict[str, Any]:
    """The verdict of a check that did not finish in time: temperror throughout."""
    verdict: dict[str, Any] = {
        "spf": "temperror",
        "spf_domain": None,
        "spf_helo": None,
        "dkim": [],
        "arc": "none",
        "arc_sealers": [],
        "dmarc": "temperror",
        "from_domain": from_domain,
        "aligned_domain": None,
        "authenticated": False,
    }
    results = [
        authres.SPFAuthenticationResult(result="temperror", reason="timed out"),
        authres.DKIMAuthenticationResult(result="temperror", reason="timed out"),
        authres.dmarc.DMARCAuthenticationResult(result="temperror", reason="timed out"),
    ]
    return verdict | {"header": _render(authserv_id, results)}


def _domain_of(address: str) -> str | None:
    local, at, domain = address.rpartition("@")
    return domain.strip().rstrip(".").lower() or None if at and local else None


def signed(raw: bytes) -> bool:
    """Whether the header block holds a DKIM signature or an ARC seal: without either, the
    verdict depends on the envelope and the From domain alone."""
    block = _header_block(raw)
    return b"dkim-signature" in block or b"arc-seal" in block


def _header_block(raw: bytes) -> bytes:
    """The header block, lowercased (the whole of ``raw`` when no blank line ends it)."""
    end = raw.find(b"\r\n\r\n")
    return (raw if end < 0 else raw[:end]).lower()


def _spf(env: Envelope, lookups: Lookups) -> tuple[str, str | None]:
    """The MAIL FROM identity's result (the HELO's when the reverse-path is null)."""
    domain = _domain_of(env.mail_from) if env.mail_from else env.helo
    if env.ip is None or not domain:
        return "none", domain.lower() if domain else None
    sender = env.mail_from or f"postmaster@{env.helo}"
    return _spf_query(env.ip, sender, env.helo or "", lookups), domain.lower()


def _spf_helo(env: Envelope, lookups: Lookups) -> str | None:
    if env.ip is None or not env.helo or env.helo.startswith("[") or "." not in env.helo:
        return None  # an address literal or a bare name has no SPF record to ask
    return _spf_query(env.ip, f"postmaster@{env.helo}", env.helo, lookups)


def _spf_query(ip: str, sender: str, helo: str, lookups: Lookups) -> str:
    left = lookups.remaining()
    if left <= 0:
        return "temperror"
    try:
        q = spf.query(i=ip, s=sender, h=helo, querytime=left)
        result = q.check()[0]
    except (spf.TempError, TempFail):
        return "temperror"
    except (spf.PermError, ValueError):  # an unusable address or sender
        return "permerror"
    return str(result).lower()


def _dkim(raw: bytes, lookups: Lookups) -> list[dict[str, Any]]:
    """Every DKIM signature's result (the first ``MAX_SIGNATURES``), top first."""
    if b"dkim-signature" not in _header_block(raw):
        return []  # unsigned: not worth dkimpy's parse
    try:
        message = dkim.DKIM(raw, logger=_quiet, minkey=1024)
    except dkim.DKIMException:
        return []
    count = sum(1 for name, _ in message.headers if name.lower() == b"dkim-signature")
    return [_signature(message, idx, lookups) for idx in range(min(count, MAX_SIGNATURES))]


def _signature(message: dkim.DKIM, idx: int, lookups: Lookups) -> dict[str, Any]:
    """One signature, by dkimpy's own steps (as its asyncio path takes them): the tags,
    the key from DNS, then the hashes; each failure named as RFC 8601 names it."""
    try:
        prep = message.verify_headerprep(idx)
    except dkim.DKIMException:
        return {"domain": None, "selector": None, "result": "permerror"}
    if not prep:
        return {"domain": None, "selector": None, "result": "none"}
    sig, include, headers = prep
    found = {
        "domain": sig[b"d"].decode("ascii", "replace").lower(),
        "selector": sig[b"s"].decode("ascii", "replace"),
    }
    name = sig[b"s"] + b"._domainkey." + sig[b"d"] + b"."
    try:
        key = dkim.load_pk_from_dns(name, lookups.dkim_key, timeout=lookups.remaining())
        message.pk, message.keysize, message.ktag, message.seqtlsrpt = key
        ok = message.verify_sig_process(sig, include, headers[idx], lookups.dkim_key)
    except TempFail:
        return found | {"result": "temperror"}
    except dkim.ValidationError:  # the body hash or the signature does not match
        return found | {"result": "fail"}
    except (dkim.DKIMException, binascii.Error):  # no key, a bad key, a bad c= value
        return found | {"result": "permerror"}
    return found | {"result": "pass" if ok else "fail"}


def _arc(raw: bytes, lookups: Lookups, trust: Trust) -> dict[str, Any]:
    """The ARC chain's validation (RFC 8617) and whether it may stand in for DMARC."""
    if b"arc-seal" not in _header_block(raw):
        return {"result": "none", "sealers": [], "trusted_pass": False}
    try:
        cv, results, _ = dkim.ARC(raw, logger=_quiet, minkey=1024).verify(dnsfunc=lookups.dkim_key)
    except TempFail:
        return {"result": "temperror", "sealers": [], "trusted_pass": False}
    except dkim.DKIMException:
        return {"result": "fail", "sealers": [], "trusted_pass": False}
    result = (cv or b"fail").decode("ascii", "replace").lower()
    sealers = [r["as-domain"].decode("ascii", "replace").lower() for r in results]
    first = next((r for r in results if r.get("instance") == 1), None)
    trusted = (
        result == "pass"
        and first is not None
        and sealers[-1] in trust.arc_sealers
        and _first_hop_dmarc(raw) == "pass"
    )
    return {"result": result, "sealers": sealers, "trusted_pass": trusted}


def _first_hop_dmarc(raw: bytes) -> str | None:
    """The ``dmarc`` result the ARC-Authentication-Results of instance 1 reports."""
    message = dkim.DKIM(raw, logger=_quiet)
    for name, value in message.headers:
        if name.lower() != b"arc-authentication-results":
            continue
        text = value.decode("utf-8", "replace")
        instance, _, rest = text.partition(";")
        if instance.replace(" ", "").replace("\t", "").strip().lower() != "i=1":
            continue
        try:
            parsed = authres.AuthenticationResultsHeader.parse_value(" ".join(rest.split()))
        except authres.AuthResError:
            return None
        return next((r.result for r in parsed.results if r.method == "dmarc"), None)
    return None


_DMARC = dmarc.DMARC()


def _aligned(from_domain: str | None, domain: str | None, *, relaxed: bool) -> bool:
    """RFC 7489 3.1 alignment: the same name (strict), or the same organizational domain
    (relaxed), as the bundled public suffix list says."""
    if not from_domain or not domain:
        return False
    a, b = from_domain.lower().rstrip("."), domain.lower().rstrip(".")
    if a == b:
        return True
    org = registrable(a) if relaxed else None
    return org is not None and registrable(b) == org


def _policy(from_domain: str, lookups: Lookups) -> dmarc.Policy | None:
    """The DMARC policy for ``from_domain``: its own record, else its organizational
    domain's (RFC 7489 6.6.3). Several records at a name count as none."""
    org = registrable(from_domain)
    names: list[tuple[str, str | None]] = [(from_domain, None)]
    if org is not None and org != from_domain:
        names.append((org, org))
    for name, org_domain in names:
        records = [t for t in lookups.txt(f"_dmarc.{name}") if t.lower().startswith("v=dmarc1")]
        if len(records) == 1:
            return _DMARC.parse_record(records[0], domain=from_domain, org_domain=org_domain)
    return None


def _dmarc(
    from_domain: str | None,
    spf_result: str,
    spf_domain: str | None,
    signatures: list[dict[str, Any]],
    lookups: Lookups,
) -> tuple[str, str | None, bool]:
    """(result, the domain that aligned, whether the From domain has a policy)."""
    if not from_domain:
        return "none", None, False
    try:
        policy = _policy(from_domain, lookups)
    except TempFail:
        return "temperror", None, False
    except dmarc.Error:
        return "permerror", None, True
    if policy is None:
        return "none", _dkim_aligned(from_domain, signatures), False
    relaxed_dkim = policy.adkim is not dmarc.DMARCAlignment.STRICT
    for s in signatures:
        if s["result"] == "pass" and _aligned(from_domain, s["domain"], relaxed=relaxed_dkim):
            return "pass", s["domain"], True
    relaxed_spf = policy.aspf is not dmarc.DMARCAlignment.STRICT
    if spf_result == "pass" and _aligned(from_domain, spf_domain, relaxed=relaxed_spf):
        return "pass", spf_domain, True
    return "fail", None, True


def _dkim_aligned(from_domain: str, signatures: list[dict[str, Any]]) -> str | None:
    return next(
        (
            s["domain"]
            for s in signatures
            if s["result"] == "pass" and _aligned(from_domain, s["domain"], relaxed=True)
        ),
        None,
    )


def header(authserv_id: str, verdict: dict[str, Any], env: Envelope) -> str:
    """The verdict as an RFC 8601 Authentication-Results value (authres renders it)."""
    spf_props: dict[str, Any] = {}
    if env.mail_from:
        spf_props["smtp_mailfrom"] = env.mail_from
    if env.helo:
        spf_props["smtp_helo"] = env.helo
    results: list[Any] = [authres.SPFAuthenticationResult(result=verdict["spf"], **spf_props)]
    for s in verdict["dkim"] or [{"result": "none", "domain": None, "selector": None}]:
        props = {"header_d": s["domain"]} if s["domain"] else {}
        if s.get("selector"):
            props["header_s"] = s["selector"]
        results.append(authres.DKIMAuthenticationResult(result=s["result"], **props))
    if verdict["arc"] != "none":
        results.append(authres.arc.ARCAuthenticationResult(result=verdict["arc"]))
    dmarc_props = {"header_from": env.from_domain} if env.from_domain else {}
    results.append(authres.dmarc.DMARCAuthenticationResult(result=verdict["dmarc"], **dmarc_props))
    return _render(authserv_id, results)


def _render(authserv_id: str, results: Collection[Any]) -> str:
    made = authres.AuthenticationResultsHeader(authserv_id=authserv_id, results=list(results))
    return str(made).removeprefix("Authentication-Results: ")
