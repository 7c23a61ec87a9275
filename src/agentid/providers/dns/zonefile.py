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
``change`` (the ``DnsProvider`` method) makes its creates, updates and deletes in one such
write, by value: a zone file has no record ids.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

import dns.zone

from agentid.errors import ValidationFailed
from agentid.providers.base import DnsChange
from agentid.providers.base import DnsChanged
from agentid.providers.base import DnsRecord
from agentid.providers.dns import rrsets
from agentid.providers.dns.rdata import canonical
from agentid.providers.dns.rdata import from_rdata
from agentid.providers.dns.rdata import zone_line
from agentid.providers.dns.rdata import zone_name
from agentid.providers.failures import map_failures
from agentid.providers.registry import ProviderUrl
from agentid.providers.registry import Transports

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
        return self.directory / f"{zone_name(zone)}.zone"

    async def read_records(self, zone: str) -> list[DnsRecord]:
        zone = zone_name(zone)
        with map_failures(self.name):
            return await asyncio.to_thread(self._read, zone)

    async def find_zone(self, domain: str) -> str:
        """A zone file per domain: the domain is its own zone."""
        return zone_name(domain)

    async def apply(self, zone: str, records: Sequence[DnsRecord]) -> None:
        """Upsert: for each (name, type) among ``records``, that set replaces the file's."""
        zone = zone_name(zone)
        wanted = [canonical(record, zone) for record in records]
        sets: dict[rrsets.Key, list[DnsRecord]] = {}
        for record in wanted:
            sets.setdefault(rrsets.key(record), []).append(record)
        async with self._lock:
            with map_failures(self.name):
                await asyncio.to_thread(self._apply, zone, sets)

    async def change(self, zone: str, changes: Sequence[DnsChange]) -> list[DnsChanged]:
        """All changes in one write of the file: they all happen, or none (an error)."""
        zone = zone_name(zone)
        checked = [
            DnsChange(c.action, canonical(c.record, zone), c.old and canonical(c.old, zone))
            for c in changes
        ]
        async with self._lock:
            with map_failures(self.name):
                current = await asyncio.to_thread(self._read, zone)
                sets = rrsets.regroup(current, checked)
                await asyncio.to_thread(self._apply, zone, sets)
        return rrsets.outcomes(checked, {})

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
                records.append(from_rdata(name, rdata, rdataset.ttl))
        return sorted(records, key=lambda r: _order(r, zone))

    def _apply(self, zone: str, sets: dict[rrsets.Key, list[DnsRecord]]) -> None:
        """Each (name, type) of ``sets`` becomes what it maps to (empty: goes)."""
        kept = [r for r in self._read(zone) if rrsets.key(r) not in sets]
        wanted = [record for members in sets.values() for record in members]
        merged = sorted(set(kept) | set(wanted), key=lambda r: _order(r, zone))
        text = _render(zone, merged)
        path = self.path(zone)
        try:
            if path.read_text(encoding="ascii") == text:
                return
        except FileNotFoundError:
            pass
        _write_atomically(path, text)


def _order(record: DnsRecord, zone: str) -> tuple[bool, str, str, int, str]:
    return (record.name != zone, record.name, record.type, record.priority or 0, record.value)


def _render(zone: str, records: Sequence[DnsRecord]) -> str:
    lines = [_HEADER.format(zone=zone)]
    for record in records:
        owner = "@" if record.name == zone else record.name.removesuffix("." + zone)
        lines.append(zone_line(record, owner) + "\n")
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
