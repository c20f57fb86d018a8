"""``vigil alerts ...``: run the delivery worker and escalation timer as their own process."""

from __future__ import annotations

import asyncio
import signal

import typer

from vigil.bootstrap import build_container
from vigil.settings import Settings

app = typer.Typer(help="Alerts: delivery worker and escalation timer.")


@app.callback()
def alerts() -> None:
    """Alerts: delivery worker and escalation timer."""


@app.command("worker")
def worker_command() -> None:
    """Deliver pending alert notifications and escalate overdue alerts until stopped."""
    from vigil.alerts import escalation, worker

    container = build_container(Settings())

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await asyncio.gather(
            worker.run(container.alerts, stop), escalation.run(container.alerts, stop)
        )

    asyncio.run(main())


if __name__ == "__main__":
    # ``python -m vigil.alerts.cli worker`` starts the same worker without importing every other
    # part's commands, which makes restarts quicker (the durability test restarts it).
    app()
