"""The domain stays pure: it imports only the standard library, eventsourcing.domain, msgspec."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

DOMAIN = Path(__file__).resolve().parent.parent / "domain"
ALLOWED = {"eventsourcing.domain", "msgspec", "domain"}


def imported_modules(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.append(node.module)
    return names


def is_allowed(module: str) -> bool:
    top = module.split(".", 1)[0]
    if top in sys.stdlib_module_names or top == "__future__":
        return True
    return any(module == a or module.startswith(a + ".") for a in ALLOWED)


def test_domain_imports_nothing_of_the_outer_layers() -> None:
    offenders = [
        f"{path.relative_to(DOMAIN.parent)} imports {module}"
        for path in sorted(DOMAIN.rglob("*.py"))
        for module in imported_modules(path)
        if not is_allowed(module)
    ]
    assert offenders == []


def test_the_check_itself_catches_an_outer_import() -> None:
    assert not is_allowed("sqlalchemy")
    assert not is_allowed("api.app")
    assert not is_allowed("eventsourcing.application")
    assert is_allowed("eventsourcing.domain")
