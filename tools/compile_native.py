"""Compile the modules listed in ``agentid.native`` to C extensions with mypyc.

Run by ``make`` (target ``native``) whenever one of them changes. The extension modules
land next to their sources (``src/agentid/...``); intermediate files go to ``.build/``.
Old extension modules are removed first, so a failed build leaves pure Python, never a
mix. Set ``AGENTID_PURE_PYTHON=1`` to skip compiling (the service runs from source).
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"
sys.path.insert(0, str(SRC))

from agentid import native  # noqa: E402


def remove_built() -> None:
    """Every extension module under src/agentid: all are ours, including those of modules
    no longer listed (left over, they would still be imported)."""
    for path in (SRC / "agentid").rglob("*"):
        if path.name.endswith(native.SUFFIXES):
            path.unlink()


def main() -> int:
    remove_built()
    if os.environ.get("AGENTID_PURE_PYTHON", "") not in ("", "0"):
        print("AGENTID_PURE_PYTHON set: not compiling")
        return 0
    from mypyc.build import mypycify  # (mypy is a dev dependency)
    from setuptools import setup

    build = ROOT / ".build"
    shutil.rmtree(build, ignore_errors=True)
    paths = [str(native.source_of(m, SRC).relative_to(ROOT)) for m in native.MODULES]
    os.chdir(ROOT)  # mypyc writes its C sources to ./build
    try:
        setup(
            name="agentid-native",
            package_dir={"": "src"},
            ext_modules=mypycify(paths, group_name=native.GROUP, opt_level="3"),
            script_args=[
                "--quiet",
                "build_ext",
                "--inplace",
                "--build-temp",
                str(build / "temp"),
                "--build-lib",
                str(build / "lib"),
            ],
        )
    except (Exception, SystemExit) as exc:
        remove_built()
        print(f"compiling failed, running from source: {exc}", file=sys.stderr)
        return 1
    finally:
        shutil.rmtree(ROOT / "build", ignore_errors=True)
    print(f"compiled {len(paths)} modules")
    return 0


if __name__ == "__main__":
    sys.exit(main())
