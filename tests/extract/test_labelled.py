"""The messages written for issue 9 (``labelled/``): what the set holds, and the scores on
the development part. (The held-out part is scored by ``test_heldout.py`` only.)"""

from __future__ import annotations

from .labelled import DEV
from .labelled import HELDOUT
from .labelled import load
from .labelled import score

NEGATIVE_CATEGORIES = {
    "2fa-notice", "recovery-codes", "bank-alert", "order", "booking", "tracking", "meeting",
    "invoice", "security-alert",
}  # fmt: skip


def test_the_set_is_as_the_issue_asks() -> None:
    dev, heldout = load(*DEV), load(HELDOUT)
    every = dev + heldout
    assert len(every) >= 120
    assert len(heldout) == 40
    assert len({m.lang for m in every}) >= 12
    hard = [m for m in every if m.category in NEGATIVE_CATEGORIES]
    assert len(hard) >= 40
    assert all(m.code is None and m.link is None for m in hard)
    assert not {m.id for m in dev} & {m.id for m in heldout}


def test_dev_scores() -> None:
    s = score(load(*DEV))
    report = s.report()
    assert s.codes_right >= 0.97, report
    assert s.links_right >= 0.95, report
    assert s.false_code_rate <= 0.02, report
    assert s.false_links == 0, report
    assert s.valid_hit >= 0.9 * s.valid_total, report
