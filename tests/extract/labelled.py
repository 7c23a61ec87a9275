"""The labelled messages of ``labelled/`` (format in its README): loading and scoring."""

from __future__ import annotations

import re
from dataclasses import dataclass
from dataclasses import field
from email.message import EmailMessage
from pathlib import Path

from agentid.extract import Extraction
from agentid.extract import extract_eml
from agentid.extract import extract_sms

HERE = Path(__file__).resolve().parent / "labelled"
HELDOUT = HERE / "heldout.txt"
DEV = tuple(sorted(HERE.glob("dev_*.txt")))
_KEYS = frozenset({"channel", "lang", "code", "link", "kind", "valid", "subject", "category"})
_SEP_RE = re.compile(r"[\s\-]")


def norm(code: str) -> str:
    return _SEP_RE.sub("", code).upper()


@dataclass(frozen=True)
class Message:
    id: str
    channel: str
    lang: str
    code: str | None
    link: str | None
    kind: str | None
    valid: int | None
    subject: str
    category: str
    text: str | None
    html: str | None

    def extract(self) -> Extraction:
        if self.channel == "sms":
            return extract_sms(self.text or "")
        msg = EmailMessage()
        msg["From"] = "Service <no-reply@service.example>"
        msg["To"] = "agent@acme.test"
        msg["Subject"] = self.subject
        if self.text is not None:
            msg.set_content(self.text)
            if self.html is not None:
                msg.add_alternative(self.html, subtype="html")
        else:
            msg.set_content(self.html or "", subtype="html")
        return extract_eml(msg.as_bytes())


def _record(block: str, path: Path) -> Message:
    lines = block.split("\n")
    ident = lines[0].strip()
    fields: dict[str, str] = {}
    k = 1
    while k < len(lines) and lines[k] != "---" and not lines[k].startswith("--- html"):
        key, sep, value = lines[k].partition(":")
        if not sep or key.strip() not in _KEYS:
            raise ValueError(f"{path.name}: {ident}: bad header line {lines[k]!r}")
        fields[key.strip()] = value.strip()
        k += 1
    if lines[k : k + 1] == ["---"]:  # a text body, then perhaps "--- html" and HTML
        k += 1
    body = "\n".join(lines[k:])
    text, sep, html = ("\n" + body).partition("\n--- html\n")
    text = text.strip("\n")
    channel = fields["channel"]
    if channel not in ("sms", "email"):
        raise ValueError(f"{path.name}: {ident}: channel {channel!r}")
    return Message(
        id=ident,
        channel=channel,
        lang=fields["lang"],
        code=fields.get("code") or None,
        link=fields.get("link") or None,
        kind=fields.get("kind") or None,
        valid=int(fields["valid"]) if fields.get("valid") else None,
        subject=fields.get("subject", ""),
        category=fields.get("category", ""),
        text=text if text.strip() else None,
        html=html.strip("\n") if sep else None,
    )


def load(*paths: Path) -> list[Message]:
    out: list[Message] = []
    for path in paths:
        blocks = path.read_text(encoding="utf-8").split("=== ")
        if blocks[0].strip():
            raise ValueError(f"{path.name}: text before the first record")
        out.extend(_record(block, path) for block in blocks[1:])
    ids = [m.id for m in out]
    assert len(ids) == len(set(ids)), "duplicate ids"
    return out


@dataclass
class Score:
    code_total: int = 0
    code_hit: int = 0
    link_total: int = 0
    link_hit: int = 0
    none_total: int = 0  # messages without a code
    false_codes: int = 0  # ... that report one
    false_links: int = 0  # messages without a link that report one
    valid_total: int = 0
    valid_hit: int = 0
    misses: list[str] = field(default_factory=list)

    @property
    def codes_right(self) -> float:
        return self.code_hit / self.code_total if self.code_total else 1.0

    @property
    def links_right(self) -> float:
        return self.link_hit / self.link_total if self.link_total else 1.0

    @property
    def false_code_rate(self) -> float:
        return self.false_codes / self.none_total if self.none_total else 0.0

    def report(self) -> str:
        return (
            f"codes {self.code_hit}/{self.code_total} ({self.codes_right:.3f}), "
            f"links {self.link_hit}/{self.link_total} ({self.links_right:.3f}), "
            f"false codes {self.false_codes}/{self.none_total} ({self.false_code_rate:.3f}), "
            f"false links {self.false_links}, validity {self.valid_hit}/{self.valid_total}\n"
            + "\n".join(self.misses)
        )


def score(messages: list[Message]) -> Score:
    s = Score()
    for m in messages:
        ex = m.extract()
        got = [c.value for c in ex.codes]
        if m.code is not None:
            s.code_total += 1
            if got and norm(got[0]) == norm(m.code):
                s.code_hit += 1
            else:
                s.misses.append(f"{m.id}: code want {m.code!r} got {got}")
        else:
            s.none_total += 1
            if got:
                s.false_codes += 1
                s.misses.append(f"{m.id}: false code {got}")
        urls = [(x.url, x.kind) for x in ex.links]
        if m.link is not None:
            s.link_total += 1
            if urls and urls[0][0] == m.link and (m.kind is None or urls[0][1] == m.kind):
                s.link_hit += 1
            else:
                s.misses.append(f"{m.id}: link want {m.link!r} ({m.kind}) got {urls}")
        elif urls:
            s.false_links += 1
            s.misses.append(f"{m.id}: false link {urls}")
        if m.valid is not None and (m.code or m.link):
            s.valid_total += 1
            if ex.valid_for_seconds == m.valid:
                s.valid_hit += 1
            else:
                s.misses.append(f"{m.id}: valid want {m.valid} got {ex.valid_for_seconds}")
    return s
