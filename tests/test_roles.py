"""Roles as processes: each role runs alone, a process without the web role answers only its
health and metrics, and every background service belongs to exactly one role."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from vigil.bootstrap import Container
from vigil.cli import app as cli
from vigil.runtime import (
    ALL_ROLES,
    ROLES,
    build_app_with_services,
    parse_roles,
    services_for,
    services_named,
)


def test_roles_are_named_and_checked() -> None:
    assert parse_roles("all") == ALL_ROLES == ("web", "gateways", "engine", "alerts")
    assert parse_roles("engine, alerts,engine") == ("engine", "alerts")
    with pytest.raises(ValueError, match="pigeons"):
        parse_roles("web,pigeons")
    with pytest.raises(ValueError, match="choose from"):
        parse_roles(" , ")


def test_every_service_has_exactly_one_role_and_a_part_name(container: Container) -> None:
    listed = [service.name for role in ROLES for service in services_for(container, (role,))]
    assert len(listed) == len(set(listed))
    assert [s.name for s in services_for(container)] == listed
    assert all(len(name.split(".")) == 2 for name in listed)
    assert [s.name for s in services_named(container, ("engine.watch",))] == ["engine.watch"]
    with pytest.raises(ValueError, match=r"pigeons\.fly"):
        services_named(container, ("pigeons.fly",))


def test_an_engine_process_answers_health_and_metrics_but_no_pages(container: Container) -> None:
    with TestClient(build_app_with_services(container, ("engine",))) as client:
        assert client.get("/livez").status_code == 200
        assert client.get("/metrics").status_code == 200
        assert client.get("/").status_code == 404
        assert client.get("/api/persons").status_code == 404
        assert client.get("/openapi.json").status_code == 404


def test_serve_refuses_a_role_it_does_not_know() -> None:
    result = CliRunner().invoke(cli, ["serve", "--roles", "web,pigeons"])
    assert result.exit_code != 0
    assert "pigeons" in result.output


def test_old_command_names_still_work_for_a_release() -> None:
    runner = CliRunner()
    new = runner.invoke(
        cli,
        ["gateways", "decode", "--protocol", "osmand", "/?id=7&lat=52&lon=-1&timestamp=1700000000"],
    )
    old = runner.invoke(
        cli, ["decode", "--protocol", "osmand", "/?id=7&lat=52&lon=-1&timestamp=1700000000"]
    )
    assert new.exit_code == old.exit_code == 0
    assert new.output == old.output
    for old_name in (["replay", "--help"], ["token", "--help"], ["user", "--help"]):
        assert runner.invoke(cli, old_name).exit_code == 0
