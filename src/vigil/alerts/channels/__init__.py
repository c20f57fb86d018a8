"""Delivery channels, registered in one place.

To add a channel: write ``channels/<name>.py`` with a class implementing
``vigil.alerts.channels.base.Channel`` and a ``build(settings) -> Channel | None`` function (None
when its settings are missing), then add its name and module here. The outbox accepts deliveries
only for names listed in ``CHANNELS``. Deliveries for a channel that is not configured wait in
the outbox, pending, until it is.

The live web channel (``channels/sse.py``) is not listed: browsers are fed straight from alert
changes on the bus, and the alert table itself is the durable record they reload from.
"""

from __future__ import annotations

import importlib

from vigil.alerts.channels.base import Channel
from vigil.alerts.config import AlertSettings
from vigil.logs import get_logger

log = get_logger(__name__)

CHANNELS: dict[str, str] = {
    "email": "vigil.alerts.channels.email",
    "webhook": "vigil.alerts.channels.webhook",
    "sms": "vigil.alerts.channels.sms",
    "protected_person": "vigil.alerts.channels.protected_person",
}
CHANNEL_NAMES = frozenset(CHANNELS)


def build_channels(settings: AlertSettings) -> dict[str, Channel]:
    built: dict[str, Channel] = {}
    for name, module_name in CHANNELS.items():
        channel: Channel | None = importlib.import_module(module_name).build(settings)
        # Unconfigured channels are left out; the delivery worker names them when it starts.
        if channel is not None:
            built[name] = channel
    return built
