"""Imports run down the layers: shared modules never import a feature package."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "agentid"
FEATURES = (
    *("agentid.email", "agentid.projects", "agentid.codes", "agentid.dns", "agentid.phone"),
    "agentid.webhooks",
    "agentid.api",
    "agentid.app",
)
# modules every feature may import; they import none of the features
SHARED = (
    "errors", "ids", "names", "times", "crypto", "native", "logs", "health", "events",
    "filters", "auth", "mime", "runtime", "workers", "waits", "limiter",
)  # fmt: skip
BUILDERS = {"select", "insert", "update", "delete", "text", "func", "case", "literal"}
# The receiving pipeline writes and reads in its own processes with Core statements (the
# hot path: no ORM unit of work); it is the one place besides store/ and repositories.
PIPELINE = {
    "digest.py", "digested.py", "spool_writer.py", "spooled_raw.py", "worker.py", "verdicts.py",
    "verdict_reads.py", "verdict_records.py", "claims.py",
}  # fmt: skip


def imports_of(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def test_shared_modules_import_no_feature() -> None:
    wrong = {
        name: sorted(m for m in imports_of(SRC / f"{name}.py") if m.startswith(FEATURES))
        for name in SHARED
    }
    assert {name: found for name, found in wrong.items() if found} == {}


def test_routes_and_auth_import_no_sqlalchemy() -> None:
    """Routes speak HTTP and auth.py decides who may do what; statements live in
    ``store/`` and the features' ``repository.py``."""
    routes = [
        p for p in SRC.rglob("*.py") if p.name == "routes.py" or p.name.endswith("_routes.py")
    ]
    assert len(routes) >= 3, routes
    wrong = {
        str(path.relative_to(SRC)): sorted(
            m for m in imports_of(path) if m.split(".")[0] == "sqlalchemy"
        )
        for path in [SRC / "auth.py", *routes]
    }
    assert {name: found for name, found in wrong.items() if found} == {}


def builders_of(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("sqlalchemy"):
            found.update(a.name for a in node.names if a.name in BUILDERS)
    return found


def test_statements_are_built_in_store_and_repositories_only() -> None:
    def allowed(path: Path) -> bool:
        where = path.relative_to(SRC)
        return (
            where.parts[0] == "store"
            or path.name == "repository.py"
            or (where.parent == Path("email/inbound") and path.name in PIPELINE)
        )

    wrong = {
        str(path.relative_to(SRC)): sorted(builders_of(path))
        for path in SRC.rglob("*.py")
        if not allowed(path) and builders_of(path)
    }
    assert wrong == {}


def test_one_slug_definition() -> None:
    slug = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
    holders = [p.relative_to(SRC) for p in SRC.rglob("*.py") if slug in p.read_text()]
    assert holders == [Path("names.py")]
