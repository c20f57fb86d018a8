"""SMS to staff through GOV.UK Notify; the template takes one ``message`` field."""

from __future__ import annotations

from vigil.alerts.channels.base import Message
from vigil.alerts.channels.notify import send_sms
from vigil.alerts.config import AlertSettings

MAX_SMS_CHARS = 612  # four concatenated SMS parts


class SmsChannel:
    name = "sms"

    def __init__(self, *, api_key: str, base_url: str, template_id: str, timeout: float) -> None:
        self.api_key = api_key
        self.base_url = base_url
        self.template_id = template_id
        self.timeout = timeout

    def text(self, message: Message) -> str:
        return str(message.body.get("text") or message.subject)[:MAX_SMS_CHARS]

    async def send(self, message: Message) -> None:
        await send_sms(
            api_key=self.api_key,
            base_url=self.base_url,
            timeout=self.timeout,
            phone_number=message.recipient,
            template_id=self.template_id,
            personalisation={"message": self.text(message)},
            reference=message.idempotency_key,
        )


def build(settings: AlertSettings) -> SmsChannel | None:
    if not settings.notify_api_key or not settings.notify_sms_template_id:
        return None
    return SmsChannel(
        api_key=settings.notify_api_key,
        base_url=settings.notify_base_url,
        template_id=settings.notify_sms_template_id,
        timeout=settings.notify_timeout_s,
    )
