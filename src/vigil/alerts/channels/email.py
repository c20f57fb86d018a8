"""Email over SMTP (standard library client, run off the event loop)."""

from __future__ import annotations

import asyncio
import hashlib
import smtplib
from email.message import EmailMessage

from vigil.alerts.channels.base import ChannelError, Message
from vigil.alerts.config import AlertSettings


class EmailChannel:
    name = "email"

    def __init__(
        self,
        *,
        host: str,
        port: int,
        sender: str,
        username: str = "",
        password: str = "",
        starttls: bool = False,
        timeout: float = 10.0,
    ) -> None:
        self.host = host
        self.port = port
        self.sender = sender
        self.username = username
        self.password = password
        self.starttls = starttls
        self.timeout = timeout

    def compose(self, message: Message) -> EmailMessage:
        email = EmailMessage()
        email["From"] = self.sender
        email["To"] = message.recipient
        email["Subject"] = message.subject
        # A stable Message-ID per idempotency key: mail systems drop duplicates by it.
        digest = hashlib.sha256(message.idempotency_key.encode()).hexdigest()[:32]
        email["Message-ID"] = f"<{digest}@vigil.alerts>"
        email["X-Vigil-Idempotency-Key"] = message.idempotency_key
        email.set_content(str(message.body.get("text", "")))
        return email

    def _send_sync(self, email: EmailMessage) -> None:
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
            if self.starttls:
                smtp.starttls()
            if self.username:
                smtp.login(self.username, self.password)
            smtp.send_message(email)

    async def send(self, message: Message) -> None:
        email = self.compose(message)
        try:
            await asyncio.to_thread(self._send_sync, email)
        except smtplib.SMTPRecipientsRefused as exc:
            raise ChannelError(f"recipient refused: {exc.recipients}", permanent=True) from exc
        except smtplib.SMTPResponseException as exc:
            # 5xx is a definite no from the server; 4xx asks us to try again later.
            raise ChannelError(
                f"SMTP {exc.smtp_code}: {exc.smtp_error!r}", permanent=exc.smtp_code >= 500
            ) from exc
        except (TimeoutError, OSError, smtplib.SMTPException) as exc:
            raise ChannelError(f"SMTP unavailable: {exc!r}") from exc


def build(settings: AlertSettings) -> EmailChannel:
    return EmailChannel(
        host=settings.smtp_host,
        port=settings.smtp_port,
        sender=settings.smtp_sender,
        username=settings.smtp_username,
        password=settings.smtp_password,
        starttls=settings.smtp_starttls,
        timeout=settings.smtp_timeout_s,
    )
