"""Confidence means something: calibrated over the labelled corpora (the shared corpus and
the development messages of ``labelled/``), and each result says how clear it is."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agentid.extract import Extraction
from agentid.extract import extract_eml
from agentid.extract import extract_sms

from .labelled import DEV
from .labelled import load
from .labelled import norm

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "corpus" / "verification"


def _shared() -> list[tuple[str | None, Extraction]]:
    labels_path = SHARED / "labels.json"
    if not labels_path.is_file():
        pytest.skip(f"corpus not found at {SHARED}")
    out: list[tuple[str | None, Extraction]] = []
    for name, label in json.loads(labels_path.read_text(encoding="utf-8")).items():
        raw = (SHARED / name).read_bytes()
        ex = extract_eml(raw) if name.endswith(".eml") else extract_sms(raw.decode("utf-8"))
        out.append((label.get("code"), ex))
    return out


def _reported() -> list[tuple[float, bool]]:
    """(confidence, right) of every code reported, runners-up included."""
    results = _shared() + [(m.code, m.extract()) for m in load(*DEV)]
    out: list[tuple[float, bool]] = []
    for code, ex in results:
        for c in ex.codes:
            out.append((c.confidence, code is not None and norm(c.value) == norm(code)))
    return out


def test_confidence_is_calibrated() -> None:
    reported = _reported()
    high = [right for conf, right in reported if conf >= 0.8]
    assert high and sum(high) / len(high) >= 0.98, "confidence >= 0.8 must be right"
    right = [conf for conf, ok in reported if ok]
    assert sum(conf >= 0.8 for conf in right) / len(right) >= 0.8, "right codes are sure"
    low = [ok for conf, ok in reported if conf < 0.5]
    assert low, "runners-up are reported below 0.5"
    assert sum(low) / len(low) < 0.5, "below 0.5, most are wrong"


def test_status_of_each_result() -> None:
    one = extract_sms("Your verification code is 482913.")
    assert (one.status, one.group, one.candidates) == ("found", 0, one.codes[:1])
    none = extract_sms("See you at 7, bring the 2 books.")
    assert (none.status, none.codes) == ("none", ())
    two = extract_sms("Code for Alice: 123456. Code for Bob: 654321.")
    assert two.status == "ambiguous" and two.group == 2
    assert {c.value for c in two.candidates} == {"123456", "654321"}
    assert all(c.confidence < 0.8 for c in two.codes)
    assert [c.confidence for c in two.codes] == sorted(
        (c.confidence for c in two.codes), reverse=True
    )
    assert all(d.get("ambiguous") is True for d in two.as_dict()["codes"])


def test_runner_up_is_reported_low() -> None:
    ex = extract_sms("Your sign-in code is 402817. Your previous code 331904 no longer works.")
    assert ex.status == "found"
    assert ex.codes[0].value == "402817" and ex.codes[0].confidence >= 0.8
    assert all(c.confidence < 0.5 for c in ex.codes[1:])
