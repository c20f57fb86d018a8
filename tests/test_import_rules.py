"""The house's import rules: entrypoints on top, the composition root beside them, the parts'
use cases and background services below, models and the shared foundation at the bottom; no
arrow points up. There is no exceptions list: a new import that breaks a rule is moved instead.

* **Entrypoints** — a part's ``api``, ``pages`` and ``cli`` modules (or packages of them),
  ``vigil.web``, ``vigil.cli`` and ``vigil.runtime`` — receive requests and commands. They may
  import anything.
* **The composition root**, ``vigil.bootstrap``, builds every part's objects. Only entrypoints
  import it.
* **Everything else** (use cases, background services, stores, decoders, demo seeders) imports
  neither an entrypoint nor the composition root: it names the narrow protocol it needs
  (``vigil.host``) and is handed the rest.
* **The foundation** — clock, errors, text, words, settings, logs, geo, db, the bus, and what every
  part shares of security (roles and principals, declared permissions, the audit log, field
  encryption) — knows no part: the bus carries parts' messages through codecs that bootstrap
  registers.
* **Models** (a part's ``model`` modules) hold pure rules: no database, no web framework, no
  use case, store or entrypoint.
"""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = SRC / "vigil"

ENTRYPOINT_NAMES = {"api", "pages", "cli"}
TOP = ("vigil.web", "vigil.cli", "vigil.runtime")
FOUNDATION = (
    "vigil.clock",
    "vigil.errors",
    "vigil.text",
    "vigil.words",
    "vigil.settings",
    "vigil.logs",
    "vigil.geo",
    "vigil.db",
    "vigil.bus",
    "vigil.health",
    "vigil.supervisor",
    "vigil.security.model",
    "vigil.security.permissions",
    "vigil.security.audit",
    "vigil.security.tables",
    "vigil.security.crypto",
)
# Modules that are not pure rules: a model imports none of them.
NOT_PURE = ("tables", "service", "store", "queries", "runner", "uow", "engine")
NOT_PURE_EXTERNAL = ("sqlalchemy", "fastapi", "starlette", "jinja2")
# A foundation module's own entrypoints (``vigil geo …``, the dead-letters page) are entrypoints.


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def within(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def is_entrypoint(name: str) -> bool:
    # A part whose pages outgrow one module keeps them in a ``pages`` package (``contact.pages.…``).
    return within(name, TOP) or bool(ENTRYPOINT_NAMES & set(name.split(".")[2:]))


def is_migration(name: str) -> bool:
    return name.startswith("vigil.db.migrations")


def imports_of(path: Path, external: bool = False) -> set[str]:
    """Every vigil module a module imports, at any depth (function-level imports included);
    with ``external``, the top-level names of other packages it imports instead."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    if external:
        return {imported.split(".")[0] for imported in found if imported.split(".")[0] != "vigil"}
    # Packages' __init__ modules hold only docstrings; "from vigil.contact import phones"
    # imports the module, not the package.
    modules = {module_name(p) for p in PACKAGE.rglob("*.py") if p.name != "__init__.py"}
    return {imported for imported in found if imported in modules}


def all_imports() -> dict[str, set[str]]:
    return {
        module_name(path): imports_of(path)
        for path in sorted(PACKAGE.rglob("*.py"))
        if not is_migration(module_name(path))
    }


def broken(rule: str, pairs: list[tuple[str, str]]) -> list[str]:
    return [f"{importer} -> {imported} ({rule})" for importer, imported in sorted(pairs)]


def test_only_entrypoints_import_entrypoints_or_the_composition_root() -> None:
    pairs = [
        (importer, imported)
        for importer, imported_set in all_imports().items()
        if not is_entrypoint(importer) and importer != "vigil.bootstrap"
        for imported in imported_set
        if is_entrypoint(imported) or imported == "vigil.bootstrap"
    ]
    assert broken("a use case imports an entrypoint or bootstrap", pairs) == []


def test_the_foundation_knows_no_part() -> None:
    pairs = [
        (importer, imported)
        for importer, imported_set in all_imports().items()
        if within(importer, FOUNDATION) and not is_entrypoint(importer)
        for imported in imported_set
        if not within(imported, FOUNDATION) and imported != "vigil"
    ]
    assert broken("the foundation imports a part", pairs) == []


def is_model(name: str) -> bool:
    return name.rsplit(".", 1)[-1] == "model" or ".model." in name


def test_models_hold_pure_rules() -> None:
    pairs = [
        (importer, imported)
        for importer, imported_set in all_imports().items()
        if is_model(importer)
        for imported in imported_set
        if is_entrypoint(imported) or imported.rsplit(".", 1)[-1] in NOT_PURE
    ]
    pairs += [
        (module_name(path), package)
        for path in sorted(PACKAGE.rglob("*.py"))
        if is_model(module_name(path))
        for package in imports_of(path, external=True)
        if package in NOT_PURE_EXTERNAL
    ]
    assert broken("a model depends on storage, the web or a use case", pairs) == []


def test_the_rules_see_every_module() -> None:
    # A guard against the rules passing because they read nothing.
    found = all_imports()
    assert len(found) > 150
    assert "vigil.bus.codec" in found
    assert "vigil.bootstrap" in found["vigil.runtime"]
