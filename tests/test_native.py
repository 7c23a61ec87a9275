"""The compiled hot path: never stale, and extracting exactly as the source does."""

from __future__ import annotations

import importlib
import json
import os
import pickle
import subprocess
import sys
import time
from pathlib import Path

import pytest

from agentid import native
from tests.external import unavailable

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "verification"
_EXTRACT_ALL = """
import json, sys
from pathlib import Path
from agentid import native
from agentid.extract import extract_eml
files = sorted(Path(sys.argv[1]).glob("*.eml"))
out = {p.name: extract_eml(p.read_bytes()).as_dict() for p in files}
print(json.dumps({"compiled": native.compiled(), "found": out}, sort_keys=True))
"""


def _fake_package(root: Path, source: str) -> Path:
    """``fakepkg/mod.py`` with a broken "extension module" of the same name beside it."""
    pkg = root / "fakepkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    broken = pkg / ("mod" + importlib.machinery.EXTENSION_SUFFIXES[0])
    broken.write_bytes(b"not a shared library")
    (pkg / "mod.py").write_text(source)
    return broken


def test_a_stale_extension_is_never_imported(tmp_path: Path) -> None:
    broken = _fake_package(tmp_path, "VALUE = 'from source'\n")
    old = time.time_ns() - 10**9
    os.utime(broken, ns=(old, old))  # built before the source last changed
    assert native.stale(["fakepkg.mod"], tmp_path) == ["fakepkg.mod"]
    finder = native.prefer_source(["fakepkg.mod"], tmp_path)
    sys.path.insert(0, str(tmp_path))
    try:
        module = importlib.import_module("fakepkg.mod")
        assert module.VALUE == "from source"
    finally:
        sys.meta_path.remove(finder)
        sys.path.remove(str(tmp_path))
        for name in ("fakepkg.mod", "fakepkg"):
            sys.modules.pop(name, None)


def test_freshness_is_judged_per_module(tmp_path: Path) -> None:
    broken = _fake_package(tmp_path, "")
    (tmp_path / "fakepkg" / "other.py").write_text("")
    new = time.time_ns() + 10**9
    os.utime(broken, ns=(new, new))
    assert native.stale(["fakepkg.mod"], tmp_path) == []
    # a module of the group without its compiled twin makes the group stale
    assert native.stale(["fakepkg.mod", "fakepkg.other"], tmp_path) == ["fakepkg.other"]
    # nothing compiled at all: a source install, nothing stale
    assert native.stale(["fakepkg.other"], tmp_path) == []


def test_the_hot_path_runs_compiled() -> None:
    if not native.compiled():
        unavailable("the extractor is not compiled (`make native` needs gcc and mypyc)")
    assert all(native.compiled(m) for m in native.MODULES)


def test_compiled_and_source_extract_the_same() -> None:
    if not CORPUS.is_dir():
        pytest.skip(f"no corpus at {CORPUS}")
    if not native.compiled():
        pytest.skip("the extractor is not compiled")
    runs = {}
    for pure in ("0", "1"):
        env = {**os.environ, "AGENTID_PURE_PYTHON": pure}
        done = subprocess.run(
            [sys.executable, "-c", _EXTRACT_ALL, str(CORPUS)],
            capture_output=True,
            text=True,
            env=env,
            check=True,
        )
        runs[pure] = json.loads(done.stdout)
    assert runs["0"]["compiled"] is True
    assert runs["1"]["compiled"] is False
    assert runs["0"]["found"] == runs["1"]["found"]
    assert any(found["codes"] for found in runs["0"]["found"].values())


def test_values_crossing_processes_pickle() -> None:
    """The parse workers receive Limits and may hand back extraction results: compiled
    frozen dataclasses must survive pickling as the source ones do."""
    from agentid.extract.models import Code
    from agentid.extract.models import Extraction
    from agentid.extract.models import Link
    from agentid.mime import Limits

    values = [
        Limits(1, 2, 3, 4),
        Extraction((Code("123456", "123 456", 0.9, "text", "example.com"),), ()),
        Extraction((), (Link("https://x.example/v?t=1", "verify", 0.8),)),
    ]
    for value in values:
        assert pickle.loads(pickle.dumps(value)) == value


def test_an_orphan_extension_is_found(tmp_path: Path) -> None:
    """One left over from a build when more modules were compiled is imported from source
    too (the guard adds it to the modules read from source)."""
    _fake_package(tmp_path, "")
    assert native.orphans("fakepkg", tmp_path) == ["fakepkg.mod"]
    assert native.orphans() == []  # this checkout: every extension module is listed
