"""Typed boundaries: what one function hands another is a typed record, and ``Any`` is left to the
JSON edge, where a value is a JSON document whose shape is the format's own.

A public function (no leading underscore, at module level or on a public class) whose return
annotation mentions ``Any``, ``dict[str, object]``, a SQLAlchemy ``Row``/``RowMapping`` or a
``list[dict...]`` is at the JSON edge when

* its module is an API or a wire format: ``api.py`` (the JSON answers under ``/api``), ``wire.py``
  and ``codec.py`` (messages on the bus), or
* its name says it renders a JSON document: it ends in ``json`` (``as_json``, ``alert_json``,
  ``zone_geojson``) or it is ``as_dict``/``to_dict`` (a record's JSON form).

Anything else returns a frozen dataclass or a TypedDict. Run as a script to list what is left:
``python tests/test_typed_boundaries.py``.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "vigil"

UNTYPED = re.compile(r"\bAny\b|dict\[str, object\]|\bRow\b|\bRowMapping\b|list\[dict\b")
EDGE_MODULES = {"api.py", "wire.py", "codec.py"}
EDGE_NAMES = re.compile(r"json$|^(as|to)_dict$")


def public_returns(path: Path) -> list[tuple[str, str]]:
    """(qualified name, return annotation) of a module's public functions and methods."""
    found: list[tuple[str, str]] = []

    def visit(body: list[ast.stmt], prefix: str) -> None:
        for node in body:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                if not node.name.startswith("_") and node.returns is not None:
                    found.append((prefix + node.name, ast.unparse(node.returns)))
            elif isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
                visit(node.body, f"{node.name}.")

    visit(ast.parse(path.read_text()).body, "")
    return found


def untyped_returns(root: Path = SRC) -> dict[str, str]:
    """``module:function`` -> its return annotation, for every untyped one (edge included)."""
    return {
        f"{path.relative_to(root)}:{name}": returns
        for path in sorted(root.rglob("*.py"))
        if "migrations" not in path.relative_to(root).parts
        for name, returns in public_returns(path)
        if UNTYPED.search(returns)
    }


def at_json_edge(key: str) -> bool:
    module, name = key.split(":")
    return Path(module).name in EDGE_MODULES or bool(EDGE_NAMES.search(name.split(".")[-1]))


def test_public_functions_outside_the_json_edge_return_typed_records() -> None:
    inside = sorted(key for key in untyped_returns() if not at_json_edge(key))
    assert inside == [], "return a frozen dataclass or a TypedDict (or name the JSON as such)"


def test_the_rule_sees_what_it_is_meant_to() -> None:
    # The measure itself: a Row or dict[str, Any] return is caught, a typed record is not, and
    # the edge is told by module or name, not by a list of functions.
    caught = ["Row[Any] | None", "list[dict[str, str]]", "dict[str, Any]", "Any"]
    assert all(UNTYPED.search(returns) for returns in caught)
    assert not any(UNTYPED.search(returns) for returns in ["list[AlertRecord]", "Rows", "Anything"])
    edge = ["alerts/api.py:get_alert", "tracking/wire.py:to_dict", "links/views.py:link_json"]
    assert all(at_json_edge(key) for key in [*edge, "orders/model.py:Condition.as_dict"])
    assert not at_json_edge("evidence/packs.py:list_packs")


if __name__ == "__main__":
    found = untyped_returns()
    inside = sorted(key for key in found if not at_json_edge(key))
    print(f"{len(found)} public functions return an untyped value, {len(inside)} outside the edge")
    for key in inside:
        print(f"  {key} -> {found[key]}")
