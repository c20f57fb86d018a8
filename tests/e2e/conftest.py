"""Everything under tests/e2e drives a real browser; the fixtures live in tests/browser.py."""

from __future__ import annotations

import pytest

from tests.browser import LiveServer

__all__ = ["LiveServer"]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/e2e/" in item.path.as_posix():
            item.add_marker(pytest.mark.e2e)
