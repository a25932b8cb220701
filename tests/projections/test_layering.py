"""Read models and the auditor depend on domain events only: never on the application (its
services, its adapters such as the group-commit recorder), the API or the workers."""

from __future__ import annotations

import ast
from pathlib import Path

PROJECTIONS = Path(__file__).resolve().parents[2] / "projections"
OUTER = ("application", "adapters", "api", "workers")


def outer_imports(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules = [node.module]
        else:
            continue
        found += [m for m in modules if m.split(".", 1)[0] in OUTER]
    return found


def test_projections_and_the_auditor_import_no_application_api_or_worker_code() -> None:
    offenders = [
        f"{path.relative_to(PROJECTIONS.parent)} imports {module}"
        for path in sorted(PROJECTIONS.rglob("*.py"))
        for module in outer_imports(path)
    ]
    assert offenders == []


def test_the_auditor_unwraps_a_recorder_wrapper_by_its_inner_attribute() -> None:
    from projections.audit.log import innermost

    class Store:
        pass

    class Wrapper:
        def __init__(self, inner: object) -> None:
            self.inner = inner

    store = Store()
    assert innermost(Wrapper(Wrapper(store))) is store
    assert innermost(store) is store
