"""DNS records as BIND zone files: ``zonefile:///absolute/dir`` or ``zonefile:relative/dir``.

The URL names a directory; each zone is one file in it, ``<zone>.zone`` (``acme.test.zone``),
opening with ``$ORIGIN acme.test.`` and holding one record per line with its TTL, owner
names relative to the origin. It is a fragment, without SOA or NS: the operator's name
server takes it with ``$INCLUDE /dir/acme.test.zone acme.test.``, or a zone wraps it. A
relative directory is taken from the working directory of ``agentid serve``, at start.

``apply`` is an upsert: for each (name, type) it is given, those records replace the
file's; every other record in the file is kept (comments are not). Each record is checked
by dnspython before anything is written, and it writes the canonical text dnspython gives
(a TXT value quoted, in strings of at most 255 bytes; an MX with its priority; targets
absolute). The file is replaced atomically and only when its text changes, so applying the
same records twice leaves it untouched. Names are A-labels (``xn--...``), lower case.
"""

from __future__ import annotations

import asyncio
import os
import re
import tempfile
from collections.abc import Sequence
from pathlib import Path

import dns.exception
import dns.name
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.zone
from dns.rdtypes.mxbase import MXBase
from dns.rdtypes.nsbase import NSBase
from dns.rdtypes.txtbase import TXTBase

from agentid.errors import ProviderRejected, ValidationFailed
from agentid.providers.base import DnsRecord
from agentid.providers.failures import map_failures
from agentid.providers.registry import ProviderUrl, Transports

TXT_STRING_BYTES = 255
MAX_TTL = 2**31 - 1
_LABEL = re.compile(r"^(?:[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?)$")
_TARGETS = frozenset({"CNAME", "NS", "PTR", "DNAME"})
_HEADER = (
    "; {zone}: records written by agentid (zonefile://). On each apply, the records it\n"
    "; manages are replaced and the others kept; comments are not.\n"
    "$ORIGIN {zone}.\n"
)


class ZoneFile:
    """A ``DnsProvider`` over a directory of BIND zone files, one per zone."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._lock = asyncio.Lock()

    @property
    def name(self) -> str:
        return f"zone file directory {self.directory}"

    def path(self, zone: str) -> Path:
        return self.directory / f"{_zone_name(zone)}.zone"

    async def read_records(self, zone: str) -> list[DnsRecord]:
        zone = _zone_name(zone)
        with map_failures(self.name):
            return await asyncio.to_thread(self._read, zone)

    async def apply(self, zone: str, records: Sequence[DnsRecord]) -> None:
        zone = _zone_name(zone)
        wanted = [_canonical(record, zone) for record in records]
        async with self._lock:
            with map_failures(self.name):
                await asyncio.to_thread(self._apply, zone, wanted)

    def _read(self, zone: str) -> list[DnsRecord]:
        path = self.path(zone)
        try:
            text = path.read_text(encoding="ascii")
        except FileNotFoundError:
            return []
        parsed = dns.zone.from_text(
            text, origin=zone + ".", relativize=False, check_origin=False, filename=str(path)
        )
        records = []
        for owner, rdataset in parsed.iterate_rdatasets():
            name = owner.to_text(omit_final_dot=True).lower()
            for rdata in rdataset:
                records.append(_record(name, rdata, rdataset.ttl))
        return sorted(records, key=lambda r: _order(r, zone))

    def _apply(self, zone: str, wanted: list[DnsRecord]) -> None:
        replaced = {(record.name, record.type) for record in wanted}
        kept = [r for r in self._read(zone) if (r.name, r.type) not in replaced]
        merged = sorted(set(kept) | set(wanted), key=lambda r: _order(r, zone))
        text = _render(zone, merged)
        path = self.path(zone)
        try:
            if path.read_text(encoding="ascii") == text:
                return
        except FileNotFoundError:
            pass
        _write_atomically(path, text)


def _zone_name(zone: str) -> str:
    name = zone.strip().lower().removesuffix(".")
    labels = name.split(".")
    if len(name) > 253 or len(labels) < 1 or not all(_LABEL.match(label) for label in labels):
        raise ProviderRejected(f"{zone[:80]!r} is not a zone name (A-labels, e.g. acme.test)")
    return name


def _canonical(record: DnsRecord, zone: str) -> DnsRecord:
    """The record as it will read back, or ProviderRejected saying what is wrong with it."""
    name = record.name.strip().lower().removesuffix(".")
    rtype = record.type.strip().upper()
    where = f"{rtype} record for {name[:80]}"
    if name != zone and not name.endswith("." + zone):
        raise ProviderRejected(f"{where}: not in zone {zone}")
    labels = name.split(".")
    if not all(_LABEL.match(label) or (label == "*" and i == 0) for i, label in enumerate(labels)):
        raise ProviderRejected(f"{where}: not a valid owner name")
    if not 0 <= record.ttl <= MAX_TTL:
        raise ProviderRejected(f"{where}: ttl out of range")
    if (rtype == "MX") != (record.priority is not None):
        raise ProviderRejected(f"{where}: a priority is given with MX records, and only them")
    try:
        rdtype = dns.rdatatype.from_text(rtype)
        rdata = dns.rdata.from_text(
            dns.rdataclass.IN, rdtype, _rdata_text(rtype, record), relativize=False
        )
    except (dns.exception.DNSException, ValueError) as exc:
        raise ProviderRejected(f"{where}: {exc}") from None
    return _record(name, rdata, record.ttl)


def _rdata_text(rtype: str, record: DnsRecord) -> str:
    value = record.value.strip()
    if rtype == "TXT":
        data = record.value.encode("utf-8")
        chunks = [data[i : i + TXT_STRING_BYTES] for i in range(0, len(data), TXT_STRING_BYTES)]
        return " ".join(_quoted(chunk) for chunk in chunks or [b""])
    if any(not ch.isprintable() for ch in value):
        raise ValueError("control characters in the value")
    if rtype == "MX":
        return f"{record.priority} {_absolute(value)}"
    if rtype in _TARGETS:
        return _absolute(value)
    return value


def _absolute(target: str) -> str:
    return target if target.endswith(".") else target + "."


def _quoted(chunk: bytes) -> str:
    """A <character-string> in zone file syntax: printable ASCII as is, the rest \\DDD."""
    out = []
    for byte in chunk:
        if byte in (0x22, 0x5C):  # " and \
            out.append("\\" + chr(byte))
        elif 0x20 <= byte < 0x7F:
            out.append(chr(byte))
        else:
            out.append(f"\\{byte:03d}")
    return '"' + "".join(out) + '"'


def _record(name: str, rdata: dns.rdata.Rdata, ttl: int) -> DnsRecord:
    rtype = dns.rdatatype.to_text(rdata.rdtype)
    priority = None
    if rtype == "TXT" and isinstance(rdata, TXTBase):
        value = b"".join(rdata.strings).decode("utf-8", "replace")
    elif rtype == "MX" and isinstance(rdata, MXBase):
        priority, value = int(rdata.preference), _target(rdata.exchange)
    elif rtype in _TARGETS and isinstance(rdata, NSBase):
        value = _target(rdata.target)
    else:
        value = rdata.to_text()
    return DnsRecord(name=name, type=rtype, value=value, ttl=ttl, priority=priority)


def _target(name: dns.name.Name) -> str:
    return "." if name == dns.name.root else name.to_text(omit_final_dot=True).lower()


def _order(record: DnsRecord, zone: str) -> tuple[bool, str, str, int, str]:
    return (record.name != zone, record.name, record.type, record.priority or 0, record.value)


def _rdata_line(record: DnsRecord) -> str:
    rdata = dns.rdata.from_text(
        dns.rdataclass.IN,
        dns.rdatatype.from_text(record.type),
        _rdata_text(record.type, record),
        relativize=False,
    )
    return rdata.to_text()


def _render(zone: str, records: Sequence[DnsRecord]) -> str:
    lines = [_HEADER.format(zone=zone)]
    for record in records:
        owner = "@" if record.name == zone else record.name.removesuffix("." + zone)
        lines.append(f"{owner}\t{record.ttl}\tIN\t{record.type}\t{_rdata_line(record)}\n")
    return "".join(lines)


def _write_atomically(path: Path, text: str) -> None:
    """Replace ``path`` by ``text`` all at once (a name server never reads half a file);
    0644, since the name server reads it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(text)
            fh.flush()
            os.fchmod(fh.fileno(), 0o644)
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def from_url(url: ProviderUrl, transports: Transports) -> ZoneFile:
    """The ``zonefile://`` factory."""
    url.no_http_override()
    url.only_params(())
    if url.host or url.port or url.username or url.password:
        raise ValidationFailed(
            "zonefile:// takes a directory, no host: zonefile:///absolute/dir or zonefile:dir"
        )
    if not url.path or url.path == "/":
        raise ValidationFailed("zonefile:// needs a directory: zonefile:///absolute/dir")
    directory = Path(url.path).absolute()
    if directory.exists() and not directory.is_dir():
        raise ValidationFailed(
            "zonefile:// names a directory (one <zone>.zone file per zone), not a file"
        )
    return ZoneFile(directory)
