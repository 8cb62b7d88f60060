"""The packages keep their layers: each imports only from the packages below it (chat > storage > text > search),
and the engine imports nothing of Discord, databases or the terminal. The root modules the front doors share
(`answering`, beside `app` and `config`) import the packages they stand on, never a front door."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.conftest import REPO

# Package (a folder of bot/) or root module (a file of bot/) -> the project packages and modules it may import from.
ALLOWED = {
    "search": {"search"},
    "text": {"text", "search"},
    "ingest": {"ingest", "search"},
    "storage": {"storage", "search"},
    "chat": {"chat", "storage", "text", "search", "ingest", "answering", "app", "config"},
    "answering": {"search", "text", "app", "config"},
}
FORBIDDEN_LIBRARIES = {
    "search": {"discord", "aiosqlite", "asyncpg", "sqlite3", "aiohttp"},
    "text": {"discord", "aiosqlite", "asyncpg", "sqlite3"},
    "storage": {"discord"},
    "answering": {"discord", "aiosqlite", "asyncpg", "sqlite3"},
}


def _imports(path: Path) -> set[str]:
    """Dotted names a module imports (absolute imports only: the project uses no relative ones)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_a_package_imports_only_the_layers_below_it(package: str) -> None:
    module = REPO / "bot" / f"{package}.py"
    paths = [module] if module.is_file() else sorted((REPO / "bot" / package).rglob("*.py"))
    assert paths, f"bot/{package} holds no module"
    for path in paths:
        for name in _imports(path):
            parts = name.split(".")
            if parts[0] == "bot" and len(parts) > 1:
                assert parts[1] in ALLOWED[package], f"{path.relative_to(REPO)} imports {name}"
            assert parts[0] not in FORBIDDEN_LIBRARIES.get(package, set()), f"{path.relative_to(REPO)} imports {name}"
