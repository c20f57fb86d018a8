"""Alert settings, read from ``VIGIL_ALERTS_*`` environment variables (or ``.env``)."""

from __future__ import annotations

from datetime import time, timedelta
from zoneinfo import ZoneInfo

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from vigil.alerts.model import EscalationPolicy, PatternRule, Severity, WorkingHours


class AlertSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="VIGIL_ALERTS_", env_file=".env", extra="ignore")

    # Escalation deadlines per severity, in seconds; 0 means "never escalates on its own".
    critical_deadline_s: int = Field(default=120, ge=0)
    high_deadline_s: int = Field(default=600, ge=0)
    medium_deadline_s: int = Field(default=3600, ge=0)
    low_deadline_s: int = Field(default=0, ge=0)

    working_hours_start: time = time(8, 0)
    working_hours_end: time = time(18, 0)
    timezone: str = "Europe/London"

    pattern_threshold: int = Field(default=3, ge=2)
    pattern_days: int = Field(default=7, ge=1)

    # Out of hours the duty officer is told. The registry does not model duty rotas yet, so the
    # duty desk's contact is configured here (one desk for the service).
    duty_desk_name: str = "Probation duty desk"
    duty_desk_email: str = ""
    duty_desk_phone: str = ""
    # Police control rooms by force area code: JSON objects, e.g. {"WMP": "https://..."}.
    control_room_webhooks: dict[str, str] = Field(default_factory=dict)
    control_room_emails: dict[str, str] = Field(default_factory=dict)

    # The monitoring centre's mailbox; it always sees the live queue, email is a second path.
    monitoring_centre_email: str = ""

    smtp_host: str = "127.0.0.1"
    smtp_port: int = 25
    smtp_sender: str = "alerts@vigil.invalid"
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = False
    smtp_timeout_s: float = 10.0

    webhook_secret: str = ""
    webhook_timeout_s: float = 10.0

    # GOV.UK Notify: the key carries the service id; the base URL points tests at a local server.
    notify_api_key: str = ""
    notify_base_url: str = "https://api.notifications.service.gov.uk"
    notify_sms_template_id: str = ""
    notify_protected_person_template_id: str = ""
    notify_timeout_s: float = 10.0

    # A protected person is told at most once in this interval, however many alerts there are.
    protected_person_min_interval_s: int = Field(default=1800, ge=0)

    # A claim is one wave of sends: at most PER_CHANNEL_CONCURRENCY (8) deliveries in flight at
    # once, each bounded by its channel's timeout (10 s). The lease is that wave and a margin, so
    # a crashed worker's claims (a police webhook among them) come back in 25 s, not a minute.
    outbox_lease_s: float = Field(default=25.0, gt=0)
    outbox_backoff_base_s: float = Field(default=2.0, gt=0)
    outbox_backoff_cap_s: float = Field(default=300.0, gt=0)
    outbox_poll_s: float = Field(default=1.0, gt=0)
    outbox_batch: int = Field(default=8, ge=1)
    escalation_poll_s: float = Field(default=5.0, gt=0)

    def escalation_policy(self) -> EscalationPolicy:
        def wait(seconds: int) -> timedelta | None:
            return timedelta(seconds=seconds) if seconds > 0 else None

        return EscalationPolicy(
            {
                Severity.CRITICAL: wait(self.critical_deadline_s),
                Severity.HIGH: wait(self.high_deadline_s),
                Severity.MEDIUM: wait(self.medium_deadline_s),
                Severity.LOW: wait(self.low_deadline_s),
            }
        )

    def working_hours(self) -> WorkingHours:
        return WorkingHours(
            tz=ZoneInfo(self.timezone), start=self.working_hours_start, end=self.working_hours_end
        )

    def pattern_rule(self) -> PatternRule:
        return PatternRule(
            threshold=self.pattern_threshold, within=timedelta(days=self.pattern_days)
        )
