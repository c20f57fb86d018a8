"""Who may attempt a use case is written down once, in ``vigil.security.permissions``.

A role list kept anywhere else drifts from the route table: the alert page once offered police a
"resolve" form that the use case then refused, because the page and the service each kept their
own list. Use cases call ``principal.require(permission)``; pages and links ask
``principal.may(permission)``; scope (which team, which force area) may still name one role.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "vigil"
# Where roles are defined and grouped: the roles themselves, and every use case's permission.
DECLARATIONS = {PACKAGE / "security" / "model.py", PACKAGE / "security" / "permissions.py"}


def _names_role(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id == "Role"
    )


def role_lists(tree: ast.AST) -> list[int]:
    """Lines that gather two or more roles into a tuple, list, set or frozenset."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Tuple | ast.List | ast.Set):
            items = node.elts
        elif isinstance(node, ast.Call) and node.args and len(node.args) > 1:
            items = node.args  # e.g. require_roles(principal, Role.A, Role.B)
        else:
            continue
        if sum(_names_role(item) for item in items) >= 2:
            found.append(node.lineno)
    return found


def test_no_part_keeps_its_own_list_of_roles() -> None:
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path in DECLARATIONS:
            continue
        for line in role_lists(ast.parse(path.read_text(encoding="utf-8"))):
            offenders.append(f"{path.relative_to(PACKAGE.parent)}:{line}")
    assert offenders == [], "declare a Permission in vigil.security.permissions instead"


def test_the_check_finds_a_role_list() -> None:
    # The rule above must be able to fail: both shapes the old code used are caught.
    assert role_lists(ast.parse("ROLES = (Role.ADMIN, Role.POLICE)")) == [1]
    assert role_lists(ast.parse("require_roles(principal, Role.ADMIN, Role.POLICE)")) == [1]
    assert role_lists(ast.parse("if principal.role is Role.POLICE: pass")) == []
