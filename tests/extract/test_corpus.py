"""Score the extractor on the labelled verification corpus (/work/shared/corpus/verification)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from agentid.extract import Extraction
from agentid.extract import extract_eml
from agentid.extract import extract_sms

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus" / "verification"
_SEP = re.compile(r"[\s\-]")


def _norm(code: str) -> str:
    return _SEP.sub("", code).upper()


def _load() -> dict[str, dict[str, object]]:
    labels_path = CORPUS / "labels.json"
    if not labels_path.is_file():
        pytest.skip(f"corpus not found at {CORPUS}")
    data: dict[str, dict[str, object]] = json.loads(labels_path.read_text(encoding="utf-8"))
    return data


def _run(name: str) -> Extraction:
    raw = (CORPUS / name).read_bytes()
    if name.endswith(".eml"):
        return extract_eml(raw)
    return extract_sms(raw.decode("utf-8"))


def test_corpus_scores() -> None:
    labels = _load()
    code_total = code_hit = link_total = link_hit = neg_total = neg_fp = 0
    misses: list[str] = []
    for name, label in sorted(labels.items()):
        ex = _run(name)
        code = label.get("code")
        link = label.get("link")
        if isinstance(code, str):
            code_total += 1
            if ex.codes and _norm(ex.codes[0].value) == _norm(code):
                code_hit += 1
            else:
                misses.append(f"{name}: code want {code!r} got {[c.value for c in ex.codes]}")
        else:
            neg_total += 1
            if ex.codes:
                neg_fp += 1
                misses.append(f"{name}: false code {[c.value for c in ex.codes]}")
        if isinstance(link, str):
            link_total += 1
            if ex.links and ex.links[0].url == link:
                link_hit += 1
            else:
                misses.append(f"{name}: link want {link!r} got {[x.url for x in ex.links]}")
        elif code is None and ex.links:
            misses.append(f"{name}: false link {[x.url for x in ex.links]}")
    code_rate = code_hit / code_total if code_total else 1.0
    link_rate = link_hit / link_total if link_total else 1.0
    fp_rate = neg_fp / neg_total if neg_total else 0.0
    report = (
        f"code {code_hit}/{code_total} ({code_rate:.1%}), link {link_hit}/{link_total} "
        f"({link_rate:.1%}), false codes {neg_fp}/{neg_total} ({fp_rate:.1%})\n" + "\n".join(misses)
    )
    assert code_rate >= 0.98, report
    assert link_rate >= 0.95, report
    assert fp_rate <= 0.02, report
    false_links = [m for m in misses if "false link" in m]
    assert not false_links, report


def test_corpus_output_shape() -> None:
    labels = _load()
    for name in sorted(labels):
        ex = _run(name)
        d = ex.as_dict()
        assert set(d) == {"codes", "links"}
        for c in ex.codes:
            assert 0.0 <= c.confidence <= 1.0
            assert c.source in ("subject", "text", "html", "sms")
            assert c.value and isinstance(c.value, str)
        for link in ex.links:
            assert 0.0 <= link.confidence <= 1.0
            assert link.kind in ("verify", "login", "reset", "confirm", "other")
        assert len({c.value.upper() for c in ex.codes}) == len(ex.codes)
        assert len({x.url for x in ex.links}) == len(ex.links)
