"""Fixtures of this part's tests: the demo pilot, which the links part joins up."""

from tests.demo_pilot import demo, demo_client, demo_template  # noqa: F401  (fixtures)
