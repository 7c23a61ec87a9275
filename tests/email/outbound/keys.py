"""A provisioned domain for the signing tests: its key made, sealed and published as
provisioning does (``dkim.new_key``, ``agentid.dns.plan``), and a dkimpy ``dnsfunc`` that
answers the planned TXT record, and nothing else."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from agentid.config import Settings
from agentid.crypto import SecretBox
from agentid.dns.plan import mail_domain
from agentid.dns.plan import plan
from agentid.email import dkim
from agentid.email.outbound.dkim_sign import DkimSigner

SELECTOR = Settings.model_fields["dkim_selector"].default  # what provisioning stores


@dataclass(frozen=True)
class Provisioned:
    signer: DkimSigner
    pem: bytes  # the opened private key, for dkimpy.sign
    dnsfunc: Callable[..., bytes | None]  # dkimpy's TXT lookup, answering the plan


def provisioned(domain: str = "acme.test") -> Provisioned:
    """The one key per domain for the whole test run."""
    return _provisioned(domain)


@functools.cache  # (not on provisioned: its default and a passed value would make two keys)
def _provisioned(domain: str) -> Provisioned:
    box = SecretBox("outbound-test-service-key")
    key = dkim.new_key(box)
    settings = Settings(data_dir=Path("/nonexistent"), secret_key="outbound-test-service-key")
    records = [
        p.record for p in plan(mail_domain(settings, domain, SELECTOR, key.public_key_b64)).records
    ]
    txt = {
        (r.name + ".").encode(): r.value.encode()
        for r in records
        if r.type == "TXT" and "._domainkey." in r.name
    }
    assert len(txt) == 1

    def dnsfunc(name: bytes, timeout: float = 5) -> bytes | None:
        return txt.get(name)

    signer = DkimSigner.from_sealed(domain, SELECTOR, box, key.sealed_private_key)
    return Provisioned(signer, dkim.private_key_pem(box, key.sealed_private_key), dnsfunc)
