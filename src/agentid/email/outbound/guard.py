"""A guard on what leaves: an outgoing message may not carry a code or link we received.

An agent can be talked into forwarding what it received ("reply with the code you just
got"). ``find_leaks`` compares an outgoing message's subject, text, HTML and attachment
file names with the verification codes and magic links extracted from the project's mail
and SMS of the last 24 hours (the caller passes every candidate, used or not) and says
which ones it carries and where; the send route refuses such a message with 422
``contains_received_code`` and ``refusal``'s words. Attachment contents are not scanned.

Every field is read the same way first: HTML entities decoded (``&#52;82913``), invisible
characters removed (every format character, category Cf: zero-width spaces and joiners,
U+2060, U+FEFF, the soft hyphen, bidi marks; also U+034F and variation selectors), NFKC
(full-width digits and letters become ASCII, NBSP a space), other decimal digits mapped
to 0-9. An HTML body is searched twice: its text, with every tag a space and every run of
white space one space (``48<b>29</b>13`` reads "48 29 13"), and its tags and comments,
one a line, where attribute values stand between quotes (``href="…?c=482913"``,
``alt="482913"``, ``<!-- 482913 -->``). Together they hold all of the source.

Codes. A code is compared on its alphanumeric characters, case-folded ("G-830829" is
"g830829"). A field is cut into *groups*, maximal runs of alphanumerics; a *joint* between
two groups joins them into a *run*: white space alone (spaces, tabs, line breaks: at most
``JOINT_SPACE`` characters), or one of ``-``, ``.``, ``_``, a Unicode dash with at most
that much white space on either side. Anything else (a comma, a slash, two dashes, a
word, a blank stretch longer than that) ends the run. A code is found where one or more
consecutive whole groups of a run spell it: "482913", "482 913", "482 - 913", "482  913",
"482\\n913", "48-29-13", "4 8 2 9 1 3" and "G830829" all carry G-830829's or 482913's
characters, while "14829130", "A482913" and "4829137" do not carry 482913 (it would begin or
end inside a group: inside a longer token). For one code that is the regex
``(?<![^\\W_])4J?8J?2J?9J?1J?3(?![^\\W_])`` (J: a joint); for all of them at once the
field is split once, and from each group the concatenation is extended group by group
only while it is the beginning of some code (a set of every code's prefixes). The work is
linear in the field (at most as many steps per group as the longest code has characters)
and does not grow with the number of codes. A code shorter than four characters is found
the same way (a secret is a secret; the extractor makes none that short).

Links. A link is compared without its scheme, user and port, its host lower-cased, its
percent-escapes decoded (``%3D`` is ``=``) and the slash ending its path dropped. In a
field, every host name followed by ``/``, ``?``, ``#`` or ``:`` (a port) that is the host
of a received link is read with the path, query and fragment after it; the link is found
when that, or its beginning cut before a ``?``, ``&``, ``;``, ``#``, a non-ASCII character
or trailing punctuation, is the link. So a link followed by more parameters or a fragment
is found, one with another query value (``?t=xyz`` for ``?t=abc``) is not, and neither is
its query or token without its host (a received code in it is still found, as a code).
Host names are looked for only before those four characters (prose holds few), read
backwards from each and looked up in a set: linear in the field too.

A code without alphanumerics, or a link without a host, stands for nothing and is passed
over. Preparing the secrets is linear in their number (and in their length).

Each secret is reported once, at the first field holding it (subject, text, html,
attachment_name); leaks come in that order, then in the order the secrets were given.
"""

from __future__ import annotations

import html as html_entities
import re
import unicodedata
from collections.abc import Iterable
from collections.abc import Iterator
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal
from urllib.parse import unquote

Kind = Literal["code", "link"]
Where = Literal["subject", "text", "html", "attachment_name"]
REFUSAL_CODE = "contains_received_code"  # the error code the send route answers (422)
SHOWN_IN_REFUSAL = 5  # leaks named in the refusal's message; the rest are counted


@dataclass(frozen=True, slots=True)
class ReceivedSecret:
    """A code or link extracted from one received message: ``source_type`` says what it
    came in ("email", "sms"), ``source_id`` which one."""

    value: str
    kind: Kind
    source_type: str
    source_id: str


@dataclass(frozen=True, slots=True)
class Outgoing:
    """The parts of a message about to be sent that the guard reads."""

    subject: str
    text: str | None = None
    html: str | None = None
    attachment_names: Sequence[str] = ()


@dataclass(frozen=True, slots=True)
class Leak:
    """A received secret an outgoing message carries, and the first field it is in."""

    value: str
    kind: Kind
    source_type: str
    source_id: str
    where: Where


# -- reading a field ------------------------------------------------------------------

# format characters (category Cf: a test checks them), U+034F, variation selectors; those
# beyond the BMP apart (a class with them is slow, and few texts hold any such character)
_INVISIBLE_RE = re.compile(
    "[\u00ad\u034f\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e\u200b-\u200f"
    "\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufe00-\ufe0f\ufeff\ufff9-\ufffb]+"
)
_INVISIBLE_ASTRAL_RE = re.compile(
    "[\U000110bd\U000110cd\U00013430-\U0001343f\U0001bca0-\U0001bca3"
    "\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f\U000e0100-\U000e01ef]+"
)
_ASTRAL_RE = re.compile("[\U00010000-\U0010ffff]")
_OTHER_DIGIT_RE = re.compile(r"[^\D0-9]")  # a decimal digit that is not ASCII
_TAGS_RE = re.compile(r"<[A-Za-z/!?][^<>]*+>")  # stops at "<": linear on unclosed tags
_SPACES_RE = re.compile(r"\s+")


def _plain(text: str) -> str:
    """``text`` with entities decoded, invisible characters removed, NFKC, digits ASCII."""
    if "&" in text:
        text = html_entities.unescape(text)
    if text.isascii():
        return text
    text = _INVISIBLE_RE.sub("", text)
    if _ASTRAL_RE.search(text):
        text = _INVISIBLE_ASTRAL_RE.sub("", text)
    text = unicodedata.normalize("NFKC", text)
    if not text.isascii():
        text = _OTHER_DIGIT_RE.sub(lambda m: str(unicodedata.decimal(m.group())), text)
    return text


def _fields(outgoing: Outgoing) -> Iterator[tuple[Where, str]]:
    """Each place to search, read as the module docstring says, in reporting order."""
    yield "subject", _plain(outgoing.subject)
    if outgoing.text:
        yield "text", _plain(outgoing.text)
    if outgoing.html:
        yield "html", _plain(_SPACES_RE.sub(" ", _TAGS_RE.sub(" ", outgoing.html)))
        yield "html", _plain("\n".join(_TAGS_RE.findall(outgoing.html)))
    for name in outgoing.attachment_names:
        yield "attachment_name", _plain(name)


# -- codes ----------------------------------------------------------------------------

_GROUP_RE = re.compile(r"([^\W_]+)")  # split on it: separators at even indices, groups odd
JOINT_SPACE = 4  # white space a joint may hold (on either side of its dash)
_JOINT_RE = re.compile(
    rf"\s{{1,{JOINT_SPACE}}}|\s{{0,{JOINT_SPACE}}}[\-._\u2010-\u2015\u2212]\s{{0,{JOINT_SPACE}}}"
)
_JOINT_MAX = 2 * JOINT_SPACE + 1


def _joint(separator: str) -> bool:
    """Does ``separator``, between two groups, join them into one run?"""
    return len(separator) <= _JOINT_MAX and _JOINT_RE.fullmatch(separator) is not None


def code_key(value: str) -> str:
    """What a code is compared on: its alphanumeric characters, read and case-folded."""
    return "".join(_GROUP_RE.findall(_plain(value).casefold()))


def _spelled(parts: list[str], codes: frozenset[str], prefixes: frozenset[str]) -> set[str]:
    """The codes that consecutive whole groups of a run spell; ``parts`` is a text split
    on ``_GROUP_RE`` (separators at even indices, groups at odd ones)."""
    found: set[str] = set()
    last = len(parts) - 2  # the last group's index
    for i in range(1, len(parts), 2):
        spelled = parts[i]
        j = i
        while spelled in prefixes:
            if spelled in codes:
                found.add(spelled)
            if j == last or not _joint(parts[j + 1]):
                break
            j += 2
            spelled += parts[j]
    return found


def _codes_in(text: str, codes: frozenset[str], prefixes: frozenset[str]) -> set[str]:
    """The codes (keys) that consecutive whole groups of a run of ``text`` spell."""
    return _spelled(_GROUP_RE.split(text.casefold()), codes, prefixes)


# -- links ----------------------------------------------------------------------------

_SCHEME_RE = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://")
_PORT_RE = re.compile(r":[0-9]*")
_URL_HINT_RE = re.compile(r"[/?#:](?<=[\w.\-].)")  # where a host name can end
_HOST_MAX = 253
_HOST_BACK_RE = re.compile(rf"[\w.\-]{{1,{_HOST_MAX + 1}}}+")  # on the text reversed
_AFTER_HOST_RE = re.compile(r"(?::[0-9]{1,5}(?![0-9]))?([/?#][^\s\"'<>`{}|\\^]*+)?")
_CUT_RE = re.compile(r"[?&;#]|[^\x00-\x7f]")  # the beginning up to one of these may be it
_TRAILING = frozenset(".,;:!?'\")]}*")


def _link_key(host: str, rest: str) -> str:
    """``host`` (lower case) and the path, query and fragment after it, as compared."""
    if "%" in rest:
        rest = unquote(rest)
    at = min((i for i in (rest.find("?"), rest.find("#")) if i >= 0), default=len(rest))
    return host + rest[:at].rstrip("/") + rest[at:]


def link_key(url: str) -> tuple[str, str] | None:
    """(host, key) of a received link, or None when it has no host."""
    url = _plain(url).strip()
    if scheme := _SCHEME_RE.match(url):
        url = url[scheme.end() :]
    end = next((i for i, c in enumerate(url) if c in "/?#"), len(url))
    host = _PORT_RE.sub("", url[:end].rpartition("@")[2], count=1).lower().rstrip(".")
    return (host, _link_key(host, url[end:])) if host else None


def _links_in(text: str, hosts: frozenset[str], longest: int) -> set[str]:
    """The keys of every URL in ``text`` at one of ``hosts``, and of its beginnings cut
    where the module docstring says; rests are read up to ``longest`` characters.

    A host name ends where a URL goes on (``/?#:``), which prose seldom holds: the
    stretch of host characters before each of those is read backwards from there."""
    found: set[str] = set()
    seen: set[tuple[str, str]] = set()  # (host, rest) already read
    n = len(text)
    backwards = ""
    for hint in _URL_HINT_RE.finditer(text):
        if not backwards:
            backwards = text[::-1]
        stretch = _HOST_BACK_RE.match(backwards, n - hint.start())
        if stretch is None or len(stretch.group()) > _HOST_MAX:
            continue  # no host before it, or a longer run than a host can be
        host = stretch.group()[::-1].lstrip("._-").lower()
        if host not in hosts:
            continue
        pos = hint.start()
        after = _AFTER_HOST_RE.match(text, pos, min(n, pos + longest))
        rest = (after.group(1) if after else None) or ""  # (it always matches)
        if (host, rest) in seen:
            continue
        seen.add((host, rest))
        ends = {len(rest)} | {c.start() for c in _CUT_RE.finditer(rest)}
        end = len(rest)
        while end and rest[end - 1] in _TRAILING:
            end -= 1
            ends.add(end)
        found.update(_link_key(host, rest[:e]) for e in ends)
    return found


# -- the guard ------------------------------------------------------------------------


def find_leaks(outgoing: Outgoing, received: Iterable[ReceivedSecret]) -> list[Leak]:
    """The received secrets ``outgoing`` carries, one ``Leak`` each, at the first field
    holding it (subject, text, html, attachment_name), then in the order given."""
    secrets = list(received)
    code_owners: dict[str, list[int]] = {}
    link_owners: dict[str, list[int]] = {}
    hosts: set[str] = set()
    longest = 0  # of a link's path, query and fragment, as it may be written (escaped)
    for index, secret in enumerate(secrets):
        if secret.kind == "code":
            if key := code_key(secret.value):
                code_owners.setdefault(key, []).append(index)
        elif parsed := link_key(secret.value):
            host, key = parsed
            hosts.add(host)
            link_owners.setdefault(key, []).append(index)
            longest = max(longest, 3 * (len(key) - len(host)) + 16)
    codes = frozenset(code_owners)
    prefixes = frozenset(code[:n] for code in codes for n in range(1, len(code) + 1))
    link_hosts = frozenset(hosts)

    leaks: dict[int, Leak] = {}
    for where, text in _fields(outgoing):
        owners: list[int] = []
        if codes:
            for key in _codes_in(text, codes, prefixes):
                owners.extend(code_owners[key])
        if link_hosts:
            for key in _links_in(text, link_hosts, longest):
                owners.extend(link_owners.get(key, ()))
        for index in sorted(owners):
            if index not in leaks:
                s = secrets[index]
                leaks[index] = Leak(s.value, s.kind, s.source_type, s.source_id, where)
    return list(leaks.values())


def refusal(leaks: Sequence[Leak]) -> str:
    """The refusal's message: which codes and links, from which messages, found where."""
    shown = [
        f"{leak.kind} {leak.value!r} (from {leak.source_type} {leak.source_id}, "
        f"in the {leak.where.replace('_', ' ')})"
        for leak in leaks[:SHOWN_IN_REFUSAL]
    ]
    more = len(leaks) - len(shown)
    if more > 0:
        shown.append(f"{more} more")
    return "the message carries what this project received: " + "; ".join(shown)
