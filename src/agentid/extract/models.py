"""Result types of the verification code / magic link extractor."""

from __future__ import annotations

from dataclasses import dataclass

SOURCES = ("subject", "text", "html", "sms")
LINK_KINDS = ("verify", "login", "reset", "confirm", "other")


@dataclass(frozen=True, slots=True)
class Code:
    """A code a person would type: ``value`` without separators/prefixes, ``raw`` as shown."""

    value: str
    raw: str
    confidence: float
    source: str
    origin: str | None = None

    def __reduce__(self) -> tuple[type[Code], tuple[str, str, float, str, str | None]]:
        # (compiled by mypyc, a frozen dataclass does not unpickle field by field)
        return (Code, (self.value, self.raw, self.confidence, self.source, self.origin))

    def as_dict(self) -> dict[str, object]:
        out: dict[str, object] = {
            "value": self.value,
            "raw": self.raw,
            "confidence": self.confidence,
            "source": self.source,
        }
        if self.origin is not None:
            out["origin"] = self.origin
        return out


@dataclass(frozen=True, slots=True)
class Link:
    """A link to click: ``url`` exactly as in the message, ``kind`` of action."""

    url: str
    kind: str
    confidence: float

    def __reduce__(self) -> tuple[type[Link], tuple[str, str, float]]:
        return (Link, (self.url, self.kind, self.confidence))

    def as_dict(self) -> dict[str, object]:
        return {"url": self.url, "kind": self.kind, "confidence": self.confidence}


@dataclass(frozen=True, slots=True)
class Extraction:
    """Codes and links found in one message, best first."""

    codes: tuple[Code, ...] = ()
    links: tuple[Link, ...] = ()

    def __reduce__(self) -> tuple[type[Extraction], tuple[tuple[Code, ...], tuple[Link, ...]]]:
        return (Extraction, (self.codes, self.links))

    def as_dict(self) -> dict[str, list[dict[str, object]]]:
        return {
            "codes": [c.as_dict() for c in self.codes],
            "links": [link.as_dict() for link in self.links],
        }


EMPTY = Extraction()
