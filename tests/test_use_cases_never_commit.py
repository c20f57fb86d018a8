"""Use cases never commit: whoever opened the unit of work commits it, once.

A use case is handed its unit of work (a ``uow`` parameter); the entrypoint, background service or
seeder that opened it (``with container.uow() as uow``) decides when the whole of its work is
stored. A use case that commits stores half of a caller's work when the caller goes on to fail:
the alert consumer once had a protected person's audited view committed in the middle of raising
an alert. This walks every function of ``src`` that takes a ``uow`` and fails on a
``uow.commit()`` inside it.

A caller that must keep a refusal on record (a throttled sign-in, a refused single sign-on)
commits in its ``except`` before re-raising: see ``vigil.security.pages.sign_in.attempt``.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "vigil"


def _takes_uow(node: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    arguments = [*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs]
    return any(argument.arg == "uow" for argument in arguments)


def _commits_uow(node: ast.AST) -> bool:
    return any(
        isinstance(call, ast.Call)
        and isinstance(call.func, ast.Attribute)
        and call.func.attr == "commit"
        and isinstance(call.func.value, ast.Name)
        and call.func.value.id == "uow"
        for call in ast.walk(node)
    )


def committing_use_cases() -> set[str]:
    found = set()
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.name == "uow.py":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            is_function = isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
            if is_function and _takes_uow(node) and _commits_uow(node):
                found.add(f"{path.relative_to(PACKAGE).as_posix()} {node.name}")
    return found


def test_no_use_case_commits_the_unit_of_work_it_was_handed() -> None:
    assert committing_use_cases() == set()


def test_the_rule_can_fail() -> None:
    code = "def add(uow, x):\n    uow.connection.execute(x)\n    uow.commit()\n"
    [function] = ast.parse(code).body
    assert isinstance(function, ast.FunctionDef)
    assert _takes_uow(function)
    assert _commits_uow(function)
