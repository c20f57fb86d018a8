"""``Directory`` through the registry's service functions (people, orders), plus the alert
settings for what the registry does not hold yet.

- Risk level, managing team, force area: the person's record.
- Responsible officer: the officer named on the person's order in force (the latest active one).
- Duty officer: the registry has no duty rotas yet, so the configured duty desk
  (``VIGIL_ALERTS_DUTY_DESK_EMAIL`` / ``_PHONE``).
- Where the wearer is: the registry holds no force-area boundaries, so ``force_area_at`` answers
  None and routing uses the person's own force area.
- Police control rooms: configured per force area (``VIGIL_ALERTS_CONTROL_ROOM_WEBHOOKS``).
- Protected persons: ids from the registry; their opt-in to notifications is kept by the alerts
  part (``alert_protected_optins``); phone numbers and safety context are read from the registry
  at send time, and the registry audits each read.
"""

from __future__ import annotations

import time

from sqlalchemy import select

from vigil.alerts.config import AlertSettings
from vigil.alerts.routing import CaseInfo, Contact, ControlRoom, ProtectedRef
from vigil.alerts.tables import alert_protected_optins
from vigil.db.uow import UnitOfWork
from vigil.errors import NotFound
from vigil.orders import service as orders
from vigil.orders.model import OrderStatus
from vigil.people import protected_details, reference_data
from vigil.people import service as people
from vigil.security.crypto import FieldCipher
from vigil.security.model import Principal, Role

# The alert worker reads the registry as the monitoring centre would: national scope, and a role
# allowed to see protected persons' details (the registry audits every such read under this name).
ALERTS_READER = Principal(
    id=0, name="alerts-worker", role=Role.MONITORING_OPERATOR, is_machine=True
)


def _int_id(value: str) -> int | None:
    try:
        return int(value)
    except ValueError:
        return None


class RegistryDirectory:
    # A case's routing facts are read a few times a second at most; keeping them this long
    # saves a dozen queries per alert on the hot path. A change of officer or risk level takes
    # effect within this time (the engine re-reads its plan every minute too).
    CASE_TTL_S = 30.0

    def __init__(self, cipher: FieldCipher, settings: AlertSettings) -> None:
        self.cipher = cipher
        self.settings = settings
        self._cases: dict[str, tuple[float, CaseInfo | None]] = {}

    def case(self, uow: UnitOfWork, person_id: str) -> CaseInfo | None:
        now = time.monotonic()
        cached = self._cases.get(person_id)
        if cached is not None and now - cached[0] < self.CASE_TTL_S:
            return cached[1]
        found = self._read_case(uow, person_id)
        self._cases[person_id] = (now, found)
        return found

    def _read_case(self, uow: UnitOfWork, person_id: str) -> CaseInfo | None:
        pid = _int_id(person_id)
        if pid is None:
            return None
        person = people.persons_by_ids(uow, [pid]).get(pid)
        if person is None:
            return None
        officer: Contact | None = None
        in_force = [
            order
            for order in orders.list_orders(uow, ALERTS_READER, person_id=pid)
            if order.status is OrderStatus.ACTIVE and order.responsible_officer_id is not None
        ]
        if in_force:
            latest = max(in_force, key=lambda order: order.starts_at)
            assert latest.responsible_officer_id is not None
            found = reference_data.get_officer(uow, latest.responsible_officer_id)
            if found is not None:
                officer = Contact(name=found.name, email=found.email)
        duty = None
        if self.settings.duty_desk_email or self.settings.duty_desk_phone:
            duty = Contact(
                name=self.settings.duty_desk_name,
                email=self.settings.duty_desk_email or None,
                phone=self.settings.duty_desk_phone or None,
            )
        return CaseInfo(
            person_id=person_id,
            risk_level=str(person.risk_level),
            managing_team_id=person.managing_team_id,
            force_area=person.force_area,
            responsible_officer=officer,
            duty_officer=duty,
            crn=person.crn,
        )

    def force_area_at(self, uow: UnitOfWork, lat: float, lon: float) -> str | None:
        return None

    def control_room(self, uow: UnitOfWork, force_area: str) -> ControlRoom | None:
        webhook = self.settings.control_room_webhooks.get(force_area)
        email = self.settings.control_room_emails.get(force_area)
        if not webhook and not email:
            return None
        return ControlRoom(force_area=force_area, webhook_url=webhook, email=email)

    def protected_persons(
        self, uow: UnitOfWork, person_id: str, condition_id: str | None
    ) -> list[ProtectedRef]:
        # Every protected person of the wearer: the registry does not say which condition
        # protects whom except for proximity conditions, and a zone around a victim's home
        # protects that victim whichever condition it is.
        pid = _int_id(person_id)
        if pid is None:
            return []
        refs = protected_details.protected_person_refs(uow, pid)
        ids = [str(ref_id) for ref_id, _relationship in refs]
        opted = (
            {
                row.protected_person_id
                for row in uow.connection.execute(
                    select(alert_protected_optins.c.protected_person_id).where(
                        alert_protected_optins.c.protected_person_id.in_(ids),
                        alert_protected_optins.c.opted_in.is_(True),
                    )
                )
            }
            if ids
            else set()
        )
        return [ProtectedRef(id=ref_id, notify_opt_in=ref_id in opted) for ref_id in ids]

    def protected_person_phone(
        self, uow: UnitOfWork, protected_person_id: str, actor: str
    ) -> str | None:
        view = self._view(uow, protected_person_id)
        return None if view is None else view.phone

    def safety_context(
        self, uow: UnitOfWork, protected_person_id: str, actor: str
    ) -> dict[str, str]:
        view = self._view(uow, protected_person_id)
        if view is None:
            return {"protected_person_id": protected_person_id, "status": "not found"}
        context = {
            "protected_person_id": protected_person_id,
            "relationship": view.relationship,
            "name": view.full_name or "",
            "address": view.address or "",
            "phone": view.phone or "",
        }
        return {key: value for key, value in context.items() if value}

    def _view(
        self, uow: UnitOfWork, protected_person_id: str
    ) -> protected_details.ProtectedPersonView | None:
        pid = _int_id(protected_person_id)
        if pid is None:
            return None
        try:
            return protected_details.get_protected_person(uow, ALERTS_READER, self.cipher, pid)
        except NotFound:
            return None
