"""The hot path compiled: which modules mypyc turns into C extensions, and a guard against
running stale ones.

Extraction and MIME reading run once per received message, in pure Python otherwise.
``make`` compiles the modules below with mypyc (as black and mypy ship themselves) into
extension modules next to their sources: the same code, type-checked, about 1.3x faster.
Python imports an extension module before the source of the same name, so one left over
from older source would run code that is no longer there: when any compiled module is
older than its source (or the source has no compiled twin while others have), every module
of the group is imported from source instead, with a warning. ``AGENTID_PURE_PYTHON=1``
does the same on purpose (to compare the two).
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import os
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

PACKAGE_ROOT = Path(__file__).resolve().parent.parent  # the directory holding agentid/
SUFFIXES = tuple(importlib.machinery.EXTENSION_SUFFIXES)
GROUP = "agentid.native_group"  # mypyc's shared library: agentid/native_group__mypyc.*.so
MODULES = (
    "agentid.extract.accents",
    "agentid.extract.alternations",
    "agentid.extract.bookings",
    "agentid.extract.code_text",
    "agentid.extract.codes",
    "agentid.extract.extractor",
    "agentid.extract.html_stack",
    "agentid.extract.html_text",
    "agentid.extract.keywords",
    "agentid.extract.labels",
    "agentid.extract.layout",
    "agentid.extract.link_words",
    "agentid.extract.links",
    "agentid.extract.masked",
    "agentid.extract.mime",
    "agentid.extract.models",
    "agentid.extract.nesting",
    "agentid.extract.notices",
    "agentid.extract.sentence",
    "agentid.extract.sms",
    "agentid.extract.textnorm",
    "agentid.extract.validity",
    "agentid.email.inbound.parse",
    "agentid.ids",
    "agentid.mime",
)


def source_of(module: str, root: Path = PACKAGE_ROOT) -> Path:
    return root.joinpath(*module.split(".")).with_suffix(".py")


def extensions_of(module: str, root: Path = PACKAGE_ROOT) -> list[Path]:
    """The extension modules built for ``module`` (for this interpreter)."""
    source = source_of(module, root)
    return [
        path
        for suffix in importlib.machinery.EXTENSION_SUFFIXES
        if (path := source.with_name(source.stem + suffix)).exists()
    ]


def stale(modules: Sequence[str], root: Path = PACKAGE_ROOT) -> list[str]:
    """The modules whose compiled twin is older than their source, or missing while
    others of the group are compiled (empty when none is compiled at all)."""
    built = {m: extensions_of(m, root) for m in modules}
    if not any(built.values()):
        return []
    out = []
    for module, paths in built.items():
        source = source_of(module, root)
        mtime = source.stat().st_mtime_ns if source.exists() else 0
        if not paths or any(p.stat().st_mtime_ns < mtime for p in paths):
            out.append(module)
    return out


def group_built(root: Path = PACKAGE_ROOT) -> bool:
    """Is mypyc's shared library of the group here (was anything compiled)?"""
    group = root.joinpath(*GROUP.split("."))
    return any(group.parent.glob(f"{group.name}__mypyc*"))


def orphans(package: str = "agentid", root: Path = PACKAGE_ROOT) -> list[str]:
    """Extension modules under ``package`` of no module in ``MODULES`` (nor the group's
    library): left over from a build when the list was longer."""
    listed = set(MODULES)
    found = []
    for path in root.joinpath(package).rglob("*"):
        suffix = next((s for s in SUFFIXES if path.name.endswith(s)), None)
        if suffix is None or "__mypyc" in path.name:
            continue
        module = ".".join(path.relative_to(root).with_name(path.name[: -len(suffix)]).parts)
        if module not in listed:
            found.append(module)
    return sorted(found)


class SourceFirst(importlib.abc.MetaPathFinder):
    """Imports the listed modules from their ``.py`` source, never from an extension."""

    def __init__(self, modules: Sequence[str], root: Path) -> None:
        self.modules = frozenset(modules)
        self.root = root

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname not in self.modules:
            return None
        return importlib.util.spec_from_file_location(fullname, source_of(fullname, self.root))


def prefer_source(modules: Sequence[str], root: Path) -> SourceFirst:
    finder = SourceFirst(modules, root)
    sys.meta_path.insert(0, finder)
    return finder


def compiled(module: str = "agentid.extract.extractor") -> bool:
    """Is ``module`` (imported now if it was not) running compiled?"""
    __import__(module)
    return not str(getattr(sys.modules[module], "__file__", "")).endswith(".py")


def guard() -> None:
    """Called once, by ``agentid/__init__``, before any compiled module can be imported."""
    if os.environ.get("AGENTID_PURE_PYTHON", "") not in ("", "0"):
        prefer_source(MODULES, PACKAGE_ROOT)
        return
    old = stale(MODULES)
    if group_built():  # (leftovers exist only where something was compiled)
        old += orphans()
    if old:
        prefer_source([*MODULES, *old], PACKAGE_ROOT)
        warnings.warn(
            f"compiled modules older than their source ({', '.join(old[:3])}...): running "
            "all of them from source, slower; `make native` compiles them again",
            RuntimeWarning,
            stacklevel=2,
        )
