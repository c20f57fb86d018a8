"""Temporary: web/app.py still lists this module; it serves the alert pages' router until the
app lists ``vigil.alerts.pages`` instead. Delete this package then."""

from vigil.alerts.pages import NAVIGATION, router

__all__ = ["NAVIGATION", "router"]
