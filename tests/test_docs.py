"""Tests that keep the docs true: what the README names must exist in the code."""

from __future__ import annotations

import re
from pathlib import Path

import typer.main

from vigil.cli import app
from vigil.security.model import Role

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def _command_paths() -> set[str]:
    """Every visible command path: "serve", "engine", "engine replay", "security token create"."""
    paths: set[str] = set()

    def walk(command: object, prefix: str) -> None:
        # Groups have sub-commands; typer brings its own copy of click, so ask, don't check.
        for name, child in getattr(command, "commands", {}).items():
            if child.hidden:
                continue
            path = f"{prefix} {name}".strip()
            paths.add(path)
            walk(child, path)

    walk(typer.main.get_group(app), "")
    return paths


def test_the_readme_role_table_lists_every_role_and_no_other() -> None:
    listed = set(re.findall(r"^\| `([a-z_]+)`", README, flags=re.MULTILINE))
    assert listed == {role.value for role in Role}


def test_every_vigil_command_in_the_docs_exists_under_its_current_name() -> None:
    paths = _command_paths()
    texts = [README] + [path.read_text() for path in (ROOT / "docs").glob("*.md")]
    words = r"([a-z][a-z-]*(?: [a-z][a-z-]*){0,2})"
    mentioned = {m for text in texts for m in re.findall(rf"`vigil {words}", text)} | set(
        re.findall(rf"^vigil {words}", README, flags=re.MULTILINE)
    )
    # "vigil engine replay scenario" names a command followed by its arguments: the longest
    # known command at the start of what the docs wrote is the one they mean.
    missing = {m for m in mentioned if not any(m == p or m.startswith(p + " ") for p in paths)}
    assert not missing, f"docs mention commands the CLI lacks (or old names): {sorted(missing)}"


def test_every_part_command_is_named_vigil_part_verb() -> None:
    top = {path for path in _command_paths() if " " not in path}
    assert top - {"migrate", "serve", "demo"} == {
        "alerts",
        "bus",
        "contact",
        "engine",
        "evidence",
        "gateways",
        "geo",
        "harm",
        "links",
        "people",
        "security",
        "sim",
    }


def test_every_file_the_readme_points_to_exists() -> None:
    paths = set(re.findall(r"`((?:src|docs|bench|tests)/[^`*]+?)`", README))
    missing = sorted(path for path in paths if not (ROOT / path.split(" ")[0]).exists())
    assert not missing, f"README points at missing paths: {missing}"
