"""Tests that keep the docs true: what the README names must exist in the code."""

from __future__ import annotations

import re
from pathlib import Path

import typer.main

from vigil.cli import app
from vigil.security.model import Role

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def _top_level_commands() -> set[str]:
    group = typer.main.get_group(app)
    return set(group.commands)


def test_the_readme_role_table_lists_every_role_and_no_other() -> None:
    listed = set(re.findall(r"^\| `([a-z_]+)`", README, flags=re.MULTILINE))
    assert listed == {role.value for role in Role}


def test_every_vigil_command_in_the_docs_exists() -> None:
    commands = _top_level_commands()
    texts = [README] + [path.read_text() for path in (ROOT / "docs").glob("*.md")]
    mentioned = {name for text in texts for name in re.findall(r"`vigil ([a-z][a-z-]*)", text)} | {
        name for name in re.findall(r"^vigil ([a-z][a-z-]*)", README, flags=re.MULTILINE)
    }
    missing = mentioned - commands
    assert not missing, f"docs mention commands the CLI lacks: {sorted(missing)}"


def test_every_file_the_readme_points_to_exists() -> None:
    paths = set(re.findall(r"`((?:src|docs|bench|tests)/[^`*]+?)`", README))
    missing = sorted(path for path in paths if not (ROOT / path.split(" ")[0]).exists())
    assert not missing, f"README points at missing paths: {missing}"
