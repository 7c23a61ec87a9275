"""The held-out messages (``labelled/heldout.txt``), against the issue's targets.

They were written before any work on the extractor began and were never used to tune it:
this is the honest score on messages it was not developed against. Do not tune on them.

Scored once, at the end of issue 9: codes right 22/22, links right 7/7, codes reported
where there is none 1/18 (0.056, over the 0.02 target): a hotel's "Code de confirmation :
4KQ7PZ" (a booking reference) is taken for a code, at confidence 0.97. That miss is kept
as it is (``xfail``, strict: the day it passes, the marker goes).
"""

from __future__ import annotations

from functools import cache

import pytest

from .labelled import HELDOUT, Score, load, score


@cache
def _score() -> Score:
    return score(load(HELDOUT))


def test_heldout_codes_right() -> None:
    s = _score()
    assert s.codes_right >= 0.97, s.report()


def test_heldout_links_right() -> None:
    s = _score()
    assert s.links_right >= 0.95, s.report()


@pytest.mark.xfail(
    reason="held-out: 1/18 messages without a code report one (a booking's 'code de "
    "confirmation'); not tuned on, as the issue asks",
    strict=True,
)
def test_heldout_false_codes() -> None:
    s = _score()
    assert s.false_code_rate <= 0.02, s.report()
