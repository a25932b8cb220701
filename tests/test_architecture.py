"""The layering of DESIGN.md §1, checked on every import statement of every module (an AST
walk: imports inside functions and under TYPE_CHECKING count too).

    api, workers (entry points) -> wibestore, application, projections, domain
    wibestore (composition root) -> adapters, application, projections, domain
    adapters                     -> application (its ports), domain
    projections                  -> domain (events)
    application                  -> domain
    domain                       -> the standard library, eventsourcing.domain, msgspec

Dependencies point inward. The composition root (wibestore/) wires adapters, application and
projections; the entry points call it and never import each other; nothing imports the entry
points. There is no import cycle, between packages or between modules; importing any
module writes no file; and only wibestore/settings.py reads the environment.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("domain", "application", "adapters", "projections", "api", "workers", "wibestore")

# The packages of ours each package may import (itself included).
MAY_IMPORT: dict[str, set[str]] = {
    "domain": {"domain"},
    "application": {"domain", "application"},
    "adapters": {"domain", "application", "adapters"},
    "projections": {"domain", "projections"},
    "wibestore": {"domain", "application", "adapters", "projections", "wibestore"},
    "api": {"domain", "application", "projections", "wibestore", "api"},
    "workers": {"domain", "application", "projections", "wibestore", "workers"},
}

# Other libraries: what the inner layers may use at all (the standard library always).
PURE = {
    "domain": ("eventsourcing.domain", "msgspec"),
    "application": (
        "eventsourcing.application",
        "eventsourcing.domain",
        "eventsourcing.persistence",
        "eventsourcing.utils",
        "msgspec",
    ),
}
# ... and what the outer ones must not: each library stays in the layer it belongs to.
NOT_HERE = {
    "adapters": ("litestar", "sqlalchemy"),
    "projections": ("litestar", "celery", "redis"),
    "api": ("celery",),
    "workers": ("litestar",),
}


def module_files() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


MODULES = module_files()


def imported(path: Path) -> Iterator[str]:
    """Every module ``path`` imports, as written (``from a import b`` gives ``a.b`` when that
    is a module of ours, ``a`` otherwise)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{path}: relative import"
            assert node.module is not None
            for alias in node.names:
                submodule = f"{node.module}.{alias.name}"
                yield submodule if submodule in MODULES else node.module


def top(module: str) -> str:
    return module.split(".", 1)[0]


def within(module: str, prefixes: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


def offence(package: str, module: str) -> str | None:
    """Why ``package`` may not import ``module``; None when it may."""
    if top(module) in PACKAGES:
        return None if top(module) in MAY_IMPORT[package] else "an outer layer"
    if top(module) in sys.stdlib_module_names or top(module) == "__future__":
        return None
    if package in PURE and not within(module, PURE[package]):
        return "a library the layer must not use"
    if within(module, NOT_HERE.get(package, ())):
        return "another layer's library"
    return None


def test_every_module_imports_only_what_its_layer_may() -> None:
    offenders = [
        f"{name} imports {module}: {why}"
        for name, path in MODULES.items()
        for module in imported(path)
        if (why := offence(top(name), module))
    ]
    assert offenders == []


def test_every_import_of_ours_names_a_module_that_exists() -> None:
    """mypy ignores missing imports (for untyped libraries), so a moved module is caught here."""
    everywhere = [
        *MODULES.values(),
        *(ROOT / "tests").rglob("*.py"),
        *(ROOT / "bench").rglob("*.py"),
    ]
    missing = [
        f"{path.relative_to(ROOT)} imports {module}"
        for path in everywhere
        for module in imported(path)
        if top(module) in PACKAGES and module not in MODULES
    ]
    assert missing == []


def test_the_check_itself_catches_what_it_must() -> None:
    assert offence("domain", "sqlalchemy") is not None
    assert offence("domain", "eventsourcing.application") is not None
    assert offence("domain", "eventsourcing.domain") is None
    assert offence("application", "redis") is not None
    assert offence("application", "structlog") is not None
    assert offence("application", "eventsourcing.postgres") is not None
    assert offence("application", "adapters.tokens") is not None
    assert offence("adapters", "wibestore.settings") is not None
    assert offence("projections", "application.ports") is not None
    assert offence("api", "workers.tasks") is not None
    assert offence("workers", "api.app") is not None
    assert offence("api", "adapters.sandbox") is not None
    assert offence("wibestore", "api.app") is not None
    assert offence("wibestore", "adapters.tokens") is None


def controller_paths() -> Iterator[tuple[str, str]]:
    """(module, path) of every controller in api/controllers/: its class's ``path = "..."``."""
    for name, path in MODULES.items():
        if not name.startswith("api.controllers."):
            continue
        for node in ast.parse(path.read_text(), filename=str(path)).body:
            for statement in node.body if isinstance(node, ast.ClassDef) else ():
                if (
                    isinstance(statement, ast.Assign)
                    and [getattr(t, "id", None) for t in statement.targets] == ["path"]
                    and isinstance(statement.value, ast.Constant)
                    and isinstance(statement.value.value, str)
                ):
                    yield name, statement.value.value


def url_prefix(path: str) -> str:
    """``/api/v1/admin-panel/games`` -> ``admin-panel``; ``/health`` -> ``health``."""
    return path.removeprefix("/api/v1/").strip("/").split("/", 1)[0]


def test_each_url_prefix_is_served_from_one_module() -> None:
    """README's map: an endpoint is in the module of its URL prefix (api/controllers/<prefix>.py,
    or a package there, as admin_panel/ for the staff panel, which spans resources)."""
    served: dict[str, set[str]] = {}
    for module, path in controller_paths():
        home = ".".join(module.split(".")[:3])  # api.controllers.admin_panel.games: the package
        served.setdefault(url_prefix(path), set()).add(home)
    assert {"auth", "profile", "games", "listings", "admin-panel", "health"} <= served.keys()
    assert {prefix: homes for prefix, homes in served.items() if len(homes) > 1} == {}


def reads_the_environment(path: Path) -> bool:
    tree = ast.parse(path.read_text(), filename=str(path))
    return any(
        (isinstance(node, ast.Attribute) and node.attr in ("environ", "getenv", "environb"))
        or (isinstance(node, ast.alias) and node.name in ("environ", "getenv", "environb"))
        for node in ast.walk(tree)
    )


def test_only_the_settings_read_the_environment() -> None:
    readers = [name for name, path in MODULES.items() if reads_the_environment(path)]
    assert readers == ["wibestore.settings"]


def graph() -> dict[str, set[str]]:
    edges: dict[str, set[str]] = {name: set() for name in MODULES}
    for name, path in MODULES.items():
        for module in imported(path):
            if module in MODULES and module != name:
                edges[name].add(module)
    return edges


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one node (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for other in sorted(edges[node]):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def test_no_two_packages_import_each_other() -> None:
    modules = graph()
    packages: dict[str, set[str]] = {p: set() for p in PACKAGES}
    for name, targets in modules.items():
        packages[top(name)].update(top(t) for t in targets if top(t) != top(name))
    assert cycles(packages) == []


def test_no_two_modules_import_each_other_even_through_others() -> None:
    assert cycles(graph()) == []


def test_the_cycle_check_finds_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def import_in_a_fresh_process(modules: list[str], workdir: Path) -> str:
    """What importing ``modules`` left in ``workdir`` (its cwd and its data dir)."""
    workdir.mkdir()
    result = subprocess.run(
        [sys.executable, "-c", "; ".join(f"import {m}" for m in modules)],
        cwd=workdir,
        env={
            "PATH": "/usr/bin:/bin",
            "PYTHONPATH": str(ROOT),
            "PYTHONDONTWRITEBYTECODE": "1",
            "WIBESTORE_DATA_DIR": str(workdir / "var"),
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, f"import {modules}:\n{result.stderr}"
    left = sorted(str(p.relative_to(workdir)) for p in workdir.rglob("*"))
    return f"{top(modules[0])} wrote {', '.join(left)}" if left else ""


@pytest.mark.slow
def test_importing_any_module_writes_no_file(tmp_path: Path) -> None:
    """Every module of a package in one fresh process (import-time code runs whatever else
    is loaded; a process per module took a minute)."""
    by_package: dict[str, list[str]] = {}
    for module in sorted(MODULES):
        by_package.setdefault(top(module), []).append(module)
    with ThreadPoolExecutor(max_workers=2) as pool:
        written = pool.map(
            lambda package: import_in_a_fresh_process(by_package[package], tmp_path / package),
            sorted(by_package),
        )
        assert [w for w in written if w] == []
