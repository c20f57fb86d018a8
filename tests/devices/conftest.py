"""Fixtures of this part's page tests: the demo pilot."""

from tests.demo_pilot import demo, demo_client, demo_template  # noqa: F401  (fixtures)
