"""The house's size rules: small modules with one job, short functions.

Migrations are left out: each is a dated record of a schema change, read once and never edited, so
its length says nothing about how easy the code is to find one's way around.

Run as a script to see one part's figures while splitting it:
``python tests/test_code_shape.py src/vigil/contact``.
"""

from __future__ import annotations

import ast
import sys
from dataclasses import dataclass
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "vigil"

MAX_MODULE_LINES = 500
P90_MODULE_LINES = 300
MAX_FUNCTION_LINES = 60
P90_FUNCTION_LINES = 30


@dataclass(frozen=True)
class Measured:
    name: str
    lines: int


def modules(root: Path = SRC) -> list[Path]:
    return sorted(p for p in root.rglob("*.py") if "migrations" not in p.relative_to(root).parts)


def module_sizes(root: Path = SRC) -> list[Measured]:
    return [
        Measured(str(p.relative_to(root)), len(p.read_text().splitlines())) for p in modules(root)
    ]


def function_sizes(root: Path = SRC) -> list[Measured]:
    found = []
    for path in modules(root):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = (node.end_lineno or node.lineno) - node.lineno + 1
                found.append(Measured(f"{path.relative_to(root)}:{node.lineno} {node.name}", lines))
    return found


def p90(sizes: list[Measured]) -> int:
    ordered = sorted(m.lines for m in sizes)
    return ordered[int(len(ordered) * 0.9)] if ordered else 0


def test_no_module_is_longer_than_the_limit() -> None:
    long = [f"{m.name} ({m.lines})" for m in module_sizes() if m.lines > MAX_MODULE_LINES]
    assert long == []


def test_nine_modules_in_ten_are_short() -> None:
    assert p90(module_sizes()) < P90_MODULE_LINES


def test_no_function_is_longer_than_the_limit() -> None:
    long = [f"{m.name} ({m.lines})" for m in function_sizes() if m.lines > MAX_FUNCTION_LINES]
    assert long == []


def test_nine_functions_in_ten_are_short() -> None:
    assert p90(function_sizes()) < P90_FUNCTION_LINES


def report(root: Path) -> None:
    mods, funcs = module_sizes(root), function_sizes(root)
    print(f"{root}: {len(mods)} modules, p90 {p90(mods)} lines (target < {P90_MODULE_LINES})")
    print(f"{len(funcs)} functions, p90 {p90(funcs)} lines (target < {P90_FUNCTION_LINES})")
    for m in sorted(mods, key=lambda m: -m.lines):
        if m.lines > P90_MODULE_LINES:
            print(f"  module   {m.lines:5}  {m.name}")
    for m in sorted(funcs, key=lambda m: -m.lines):
        if m.lines > P90_FUNCTION_LINES:
            print(f"  function {m.lines:5}  {m.name}")


if __name__ == "__main__":
    report(Path(sys.argv[1]).resolve() if len(sys.argv) > 1 else SRC)
