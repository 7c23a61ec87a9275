"""The held-out messages (``labelled/heldout.txt``), against the issue's targets.

They were written before any work on the extractor began and were never used to tune it:
this is the honest score on messages it was not developed against. Do not tune on them.

Scored once, at the end of issue 9: codes right 22/22, links right 7/7, codes reported
where there is none 1/18 (0.056, over the 0.02 target): a hotel's "Code de confirmation :
4KQ7PZ" (a booking reference) was taken for a code. The next session mended the kind of
miss, not the message: a booking's confirmation code is a reference
(``agentid.extract.bookings``), with new development messages of that kind in eight
languages (``dev_negatives.txt``, ``n-booking-*``) and a property test. Scored again
after that: 22/22, 7/7, 0/18. For booking confirmations this set is no longer blind;
for everything else it still is.
"""

from __future__ import annotations

from functools import cache

from .labelled import HELDOUT
from .labelled import Score
from .labelled import load
from .labelled import score


@cache
def _score() -> Score:
    return score(load(HELDOUT))


def test_heldout_codes_right() -> None:
    s = _score()
    assert s.codes_right >= 0.97, s.report()


def test_heldout_links_right() -> None:
    s = _score()
    assert s.links_right >= 0.95, s.report()


def test_heldout_false_codes() -> None:
    s = _score()
    assert s.false_code_rate <= 0.02, s.report()
