"""Result types of the verification code / magic link extractor."""

from __future__ import annotations

from dataclasses import dataclass

SOURCES = ("subject", "text", "html", "sms")
LINK_KINDS = ("verify", "login", "reset", "confirm", "other")
STATUSES = ("found", "ambiguous", "none")


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
    """Codes and links found in one message, best first.

    ``group``: how many of the first codes scored so close that none is clearly the code
    (``status`` "ambiguous": they are one group, best first; consuming one consumes all);
    0 when one code is clear, or there is none. ``valid_for_seconds``: how long the
    message says its code or link stays valid, when it says so.
    """

    codes: tuple[Code, ...] = ()
    links: tuple[Link, ...] = ()
    group: int = 0
    valid_for_seconds: int | None = None

    def __reduce__(
        self,
    ) -> tuple[type[Extraction], tuple[tuple[Code, ...], tuple[Link, ...], int, int | None]]:
        return (Extraction, (self.codes, self.links, self.group, self.valid_for_seconds))

    @property
    def status(self) -> str:
        """Of the codes: "found" (one clear code), "ambiguous" (``group`` close ones) or
        "none". (Links are reported apart.)"""
        if not self.codes:
            return "none"
        return "ambiguous" if self.group > 1 else "found"

    @property
    def candidates(self) -> tuple[Code, ...]:
        """The codes to hand out together: the ambiguous group, or the one clear code."""
        return self.codes[: max(1, self.group)]

    def as_dict(self) -> dict[str, list[dict[str, object]]]:
        """``{"codes": [...], "links": [...]}``. A code of an ambiguous group carries
        ``"ambiguous": true``; codes and links carry ``valid_for_seconds`` when known."""
        codes = [c.as_dict() for c in self.codes]
        links = [link.as_dict() for link in self.links]
        if self.group > 1:
            for c in codes[: self.group]:
                c["ambiguous"] = True
        if self.valid_for_seconds is not None:
            for d in codes + links:
                d["valid_for_seconds"] = self.valid_for_seconds
        return {"codes": codes, "links": links}


EMPTY = Extraction()
