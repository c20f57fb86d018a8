"""Opt-in notification to a protected person, by SMS through GOV.UK Notify.

The text is fixed here and takes nothing from the alert: it never says where the wearer is, what
zone was entered or how close he came, because a message on a phone can be read by others. The
rate limit (at most one per protected person per interval) is applied when deliveries are
planned, in ``vigil.alerts.service``. The recipient address is resolved from the registry only at
send time, so no phone number sits in the outbox.
"""

from __future__ import annotations

from vigil.alerts.channels.base import Message
from vigil.alerts.channels.notify import send_sms
from vigil.alerts.config import AlertSettings

SAFE_TEXT = (
    "Vigil: an alert about your safety has been raised and is being acted on. "
    "If you are in danger now, call 999."
)


class ProtectedPersonChannel:
    name = "protected_person"

    def __init__(self, *, api_key: str, base_url: str, template_id: str, timeout: float) -> None:
        self.api_key = api_key
        self.base_url = base_url
        self.template_id = template_id
        self.timeout = timeout

    async def send(self, message: Message) -> None:
        await send_sms(
            api_key=self.api_key,
            base_url=self.base_url,
            timeout=self.timeout,
            phone_number=message.recipient,
            template_id=self.template_id,
            # Only the fixed text: the body is deliberately not read.
            personalisation={"message": SAFE_TEXT},
            reference=message.idempotency_key,
        )


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
