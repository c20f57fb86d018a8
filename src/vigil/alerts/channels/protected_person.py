"""Opt-in notification to a protected person, by SMS through GOV.UK Notify.

The text is fixed here and takes nothing from the alert: it never says where the wearer is, what
zone was entered or how close he came, because a message on a phone can be read by others. The
rate limit (at most one per protected person per interval) is applied when deliveries are
planned, in ``vigil.alerts.service``. The recipient address is resolved from the registry only at
send time, so no phone number sits in the outbox.
"""

from __future__ import annotations

from vigil.alerts.channels.base import Message
from vigil.alerts.channels.sms import SmsChannel
from vigil.alerts.config import AlertSettings

SAFE_TEXT = (
    "Vigil: an alert about your safety has been raised and is being acted on. "
    "If you are in danger now, call 999."
)


class ProtectedPersonChannel(SmsChannel):
    """Sent like a staff SMS, but always with the fixed text."""

    name = "protected_person"

    def text(self, message: Message) -> str:
        # Only the fixed text: the body is deliberately not read.
        return SAFE_TEXT


def build(settings: AlertSettings) -> ProtectedPersonChannel | None:
    if not settings.notify_api_key or not (
        settings.notify_protected_person_template_id or settings.notify_sms_template_id
    ):
        return None
    return ProtectedPersonChannel(
        api_key=settings.notify_api_key,
        base_url=settings.notify_base_url,
        template_id=settings.notify_protected_person_template_id or settings.notify_sms_template_id,
        timeout=settings.notify_timeout_s,
    )
