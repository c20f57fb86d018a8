"""What a user chose to be told of new critical alerts while the alert queue page is open: a
sound, a desktop notification, a count in the tab title. Each is off until the user turns it
on: a sound nobody asked for in a shared office is noise, and a browser asks before notifying.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from sqlalchemy import delete, insert, select

from vigil.db.uow import UnitOfWork
from vigil.security import audit, permissions
from vigil.security.model import Principal
from vigil.security.tables import user_alert_preferences


@dataclass(frozen=True)
class AlertPreferences:
    sound: bool = False
    desktop_notification: bool = False
    tab_title_count: bool = False

    @property
    def any(self) -> bool:
        return self.sound or self.desktop_notification or self.tab_title_count


def alert_preferences(uow: UnitOfWork, principal: Principal) -> AlertPreferences:
    """The signed-in user's choices; all off for a user who never chose (or a machine)."""
    principal.require(permissions.OWN_ACCOUNT)
    row = uow.connection.execute(
        select(user_alert_preferences).where(user_alert_preferences.c.user_id == principal.id)
    ).first()
    if row is None:
        return AlertPreferences()
    return AlertPreferences(row.sound, row.desktop_notification, row.tab_title_count)


def set_alert_preferences(uow: UnitOfWork, principal: Principal, chosen: AlertPreferences) -> None:
    """Store the user's own choices (audited; the caller commits)."""
    principal.require(permissions.OWN_ACCOUNT)
    now = uow.clock.now()
    table = user_alert_preferences
    uow.connection.execute(delete(table).where(table.c.user_id == principal.id))
    uow.connection.execute(
        insert(table).values(user_id=principal.id, updated_at=now, **asdict(chosen))
    )
    audit.record(
        uow.connection,
        at=now,
        actor=principal.actor,
        action="user.alert_preferences",
        subject_type="user",
        subject_id=principal.id,
        detail=asdict(chosen),
    )
