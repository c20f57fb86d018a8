"""SIGKILL of the embedded server (``vigil serve`` on SQLite with the in-process bus) right after
it acknowledged a batch: every acknowledged fix is in the trail, once, and still after a restart.
The in-process bus answers a publish only once every subscriber has handled it, so the answer
comes after the engine's commit, never from memory."""

from __future__ import annotations

from pathlib import Path

from tests.faults.cluster import VigilProcess, base_env
from tests.faults.world import Sender, Tables, expected_counts, script, seed
from vigil.db import migrate


def test_the_embedded_server_killed_after_acknowledging_a_batch_has_stored_all_of_it(
    workdir: Path, processes: list[VigilProcess]
) -> None:
    url = f"sqlite:///{workdir / 'vigil.db'}"
    migrate.upgrade(url)
    world = seed(url, wearers=50, incursions=0)
    server = VigilProcess("embedded", "all", base_env(url), workdir)
    processes.append(server)
    server.start()
    rows = script(world, steps=200).rows  # 10,000 fixes in one batch
    sender = Sender(server.url, world.token)
    assert sender.post(rows) == 200
    server.kill()  # at once: nothing may still be waiting in memory

    tables = Tables(url)
    assert tables.fix_counts() == expected_counts(rows)
    server.start()
    assert server.status("/readyz") == 200, server.ready()
    server.stop()
    assert tables.fix_counts() == expected_counts(rows)
    tables.dispose()
