"""Import, idempotence, bad rows, victims' details at rest, decisions, runs and reviews."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select, text

from vigil.bootstrap import Container
from vigil.errors import ValidationError
from vigil.harm.decisions import merge, split
from vigil.harm.incident_import import ImportReport, import_incidents
from vigil.harm.matrix import dropped_out, matrix
from vigil.harm.model import INCIDENT_COLUMNS, Movement, PartyRole
from vigil.harm.records import person_records
from vigil.harm.reviews import create_review, list_reviews
from vigil.harm.runs import compute_run
from vigil.harm.tables import harm_identities, harm_incidents
from vigil.security import audit
from vigil.security.model import Principal, Role
from vigil.security.tables import audit_log

ANALYST = Principal(id=1, name="analyst", role=Role.ANALYST)

HEADER = ",".join(INCIDENT_COLUMNS) + ",station"
AS_OF = datetime(2025, 1, 1, tzinfo=UTC)


def csv(*rows: str) -> bytes:
    return ("\n".join([HEADER, *rows]) + "\n").encode()


GOOD = [
    "R1,2024-12-01T20:00:00Z,WMP,Rape,Rape,true,false,true,84/1A,Robert Johnson,1984-03-07,,Alice Brown,1990-02-01,true,false,Aston",  # noqa: E501
    "R2,2024-11-01,WMP,,Violence with injury,true,false,false,,Bob Johnson,1984-03-07,,Carol White,1991-05-05,true,false,Aston",  # noqa: E501
    "R3,2024-10-01 10:00,WMP,,Public order,true,false,false,,Johnson Robert,1984-07-03,,Alice Brown,01/02/1990,false,false,Digbeth",  # noqa: E501
    "R4,2024-06-01,NOT,,Public order,true,false,false,99/2B,Dean West,1975-06-30,,,,false,false,",
]


def import_(container: Container, content: bytes) -> ImportReport:
    with container.uow() as uow:
        report = import_incidents(
            uow, container.cipher, content, filename="t.csv", principal=ANALYST
        )
        uow.commit()
        return report


def test_import_resolves_people_and_reimport_changes_nothing(container: Container) -> None:
    first = import_(container, csv(*GOOD))
    assert (first.total, first.added, first.rejected) == (4, 4, 0)
    assert first.suspects.persons == 2
    assert first.victims.persons == 2
    with container.engine.connect() as conn:
        before = conn.execute(select(harm_identities).order_by(harm_identities.c.id)).all()
        extra = conn.execute(
            select(harm_incidents.c.extra).where(harm_incidents.c.incident_ref == "R3")
        ).scalar_one()
    assert '"station":"Digbeth"' in extra
    again = import_(container, csv(*GOOD))
    assert (again.added, again.unchanged, again.rejected) == (0, 4, 0)
    with container.engine.connect() as conn:
        after = conn.execute(select(harm_identities).order_by(harm_identities.c.id)).all()
        count = conn.execute(select(harm_incidents.c.id)).all()
    assert before == after
    assert len(count) == 4


def test_bad_rows_are_reported_and_good_rows_kept(container: Container) -> None:
    report = import_(
        container,
        csv(
            GOOD[0],
            "R5,2024-13-01,WMP,,Public order,true,false,false,X1,A B,,,,,false,false,",
            "R6,2024-01-01,,,Public order,maybe,false,false,,,,,,,false,false,",
            "R1,2024-01-01,WMP,,Public order,true,false,false,X2,,,,,,false,false,",
            "R7,2999-01-01,WMP,,Public order,true,false,false,X3,,,,Eve,1990-99-01,false,false,",
        ),
    )
    assert report.added == 1
    assert report.rejected == 4
    found = {(e.row, e.field) for e in report.errors}
    assert (3, "occurred_at") in found
    assert {(4, "force"), (4, "domestic_abuse"), (4, "suspect_name")} <= found
    assert (5, "incident_ref") in found
    assert {(6, "occurred_at"), (6, "victim_dob")} <= found
    reasons = {e.field: e.reason for e in report.errors if e.row == 6}
    assert reasons["occurred_at"] == "is in the future"


def test_a_changed_row_with_a_known_reference_is_refused(container: Container) -> None:
    import_(container, csv(*GOOD))
    changed = GOOD[3].replace("Public order", "Rape")
    report = import_(container, csv(changed))
    assert report.added == 0
    assert [(e.row, e.field) for e in report.errors] == [(2, "incident_ref")]


def test_a_file_without_the_columns_is_refused_whole(container: Container) -> None:
    with pytest.raises(ValidationError) as caught:
        import_(container, b"incident_ref,occurred_at\nR1,2024-01-01\n")
    assert caught.value.field == "header"


def test_victims_names_and_dates_of_birth_are_encrypted_at_rest(container: Container) -> None:
    import_(container, csv(*GOOD))
    with container.engine.connect() as conn:
        dump = " ".join(
            str(row) for row in conn.execute(text("SELECT * FROM harm_identities")).all()
        )
        audit_dump = " ".join(str(r) for r in conn.execute(select(audit_log)).all())
    for secret in ("Alice", "Brown", "Carol", "1990-02-01"):
        assert secret not in dump
        assert secret not in audit_dump
    assert "Robert Johnson" in dump  # suspects stay readable for the analyst


def test_analyst_merge_and_split_are_applied_and_audited(container: Container) -> None:
    import_(container, csv(*GOOD))
    with container.engine.connect() as conn:
        ids = {
            sid: i
            for sid, i in conn.execute(
                select(harm_identities.c.source_id, harm_identities.c.id).where(
                    harm_identities.c.role == "suspect", harm_identities.c.source_id.is_not(None)
                )
            )
        }
    with container.uow() as uow:
        key = merge(
            uow,
            container.cipher,
            role=PartyRole.SUSPECT,
            identity_a=ids["84/1A"],
            identity_b=ids["99/2B"],
            reason="same PNC after correction",
            principal=ANALYST,
        )
        uow.commit()
    assert key == "84/1A"
    with container.uow() as uow:
        records = person_records(uow, "84/1A", ANALYST)
        uow.commit()
    assert len(records) == 4
    with container.uow() as uow:
        alone = split(
            uow,
            container.cipher,
            role=PartyRole.SUSPECT,
            identity_id=ids["99/2B"],
            reason="different man",
            principal=ANALYST,
        )
        uow.commit()
    assert alone != "84/1A"
    with pytest.raises(ValidationError), container.uow() as uow:
        merge(
            uow,
            container.cipher,
            role=PartyRole.SUSPECT,
            identity_a=ids["84/1A"],
            identity_b=ids["99/2B"],
            reason="  ",
            principal=ANALYST,
        )
    with container.engine.connect() as conn:
        actions = [r.action for r in conn.execute(select(audit_log.c.action))]
        assert audit.verify(conn).intact
    assert {"harm.merge", "harm.split", "harm.person.view", "harm.import"} <= set(actions)


def test_runs_show_what_changed_and_reviews_follow_the_score(container: Container) -> None:
    import_(container, csv(*GOOD))
    with container.uow() as uow:
        first = compute_run(uow, as_of=datetime(2024, 7, 1, tzinfo=UTC), principal=ANALYST)
        second = compute_run(uow, as_of=AS_OF, principal=ANALYST)
        rows = matrix(uow, ANALYST, second, top=10)
        dropped = dropped_out(uow, ANALYST, second, top=1)
        first_rows = matrix(uow, ANALYST, first, top=10)
        uow.commit()
    assert [r.person_id for r in first_rows] == ["99/2B"]
    assert [(r.person_id, r.movement) for r in rows] == [
        ("84/1A", Movement.NEW),
        ("99/2B", Movement.FALLEN),
    ]
    assert dropped == [("99/2B", 1)]
    assert "rape" in rows[0].explanation
    with container.uow() as uow:
        review = create_review(
            uow,
            person_id="84/1A",
            tactic="disruption",
            actions="Joint visit; DVPN considered",
            owner="DS Jane Patel",
            agency="police",
            review_date="2025-01-10",
            next_review_date="2025-02-10",
            principal=ANALYST,
        )
        with pytest.raises(ValidationError) as caught:
            create_review(
                uow,
                person_id="84/1A",
                tactic="arrest",
                actions="",
                owner=" ",
                agency="neighbours",
                review_date="soon",
                next_review_date=None,
                principal=ANALYST,
            )
        listed = list_reviews(uow, ANALYST)
    assert {e.field for e in caught.value.errors} == {
        "tactic",
        "actions",
        "owner",
        "agency",
        "review_date",
    }
    assert listed[0].id == review
    assert (listed[0].owner, listed[0].agency_label) == ("DS Jane Patel", "Police")
    assert listed[0].selected_rank == 1
    assert listed[0].latest_score == rows[0].score
