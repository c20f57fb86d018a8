"""The outbox hands a worker at most what it asked for, on both databases."""

from __future__ import annotations

from datetime import timedelta

from vigil.alerts import outbox
from vigil.bootstrap import Container


def test_a_claim_takes_at_most_its_limit_however_many_deliveries_are_due(
    container: Container,
) -> None:
    with container.uow() as uow:
        for n in range(200):
            outbox.enqueue(
                uow,
                channel="webhook",
                recipient="http://127.0.0.1:9/hook",
                subject="s",
                body={"n": n},
                idempotency_key=f"hook-{n}",
            )
        uow.commit()
    taken: list[int] = []
    for worker in ("a", "b", "c"):
        with container.uow() as uow:
            claimed = outbox.claim(
                uow, channel="webhook", worker=worker, lease=timedelta(seconds=30), limit=20
            )
            uow.commit()
        assert len(claimed) == 20
        taken += [delivery.id for delivery in claimed]
    assert len(set(taken)) == 60, "two workers were handed the same delivery"
