"""Temporary: cli.py still mounts ``vigil geo`` from here; it lives in ``vigil.geo.cli`` now.
Delete this package when cli.py's SUBCOMMANDS names ("vigil.geo.cli", "geo")."""

from vigil.geo.cli import app

__all__ = ["app"]
