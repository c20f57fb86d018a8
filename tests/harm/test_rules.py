"""Each scoring component's rule, on a small hand-worked set."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import polars as pl
import pytest

from vigil.errors import ValidationError
from vigil.harm.harm_index import default_index, parse_table
from vigil.harm.model import Components, ScoringConfig, dob_similarity, explain, split_name
from vigil.harm.scoring import INCIDENT_SCHEMA, ranking_table, score_frame

AS_OF = datetime(2025, 1, 1, tzinfo=UTC)
INDEX = default_index()


def incidents(*rows: tuple[str, int, str, str | None]) -> pl.DataFrame:
    """(person, days before AS_OF, offence subgroup, victim) → the scoring frame."""
    return pl.DataFrame(
        {
            "person_id": [r[0] for r in rows],
            "force": ["WMP"] * len(rows),
            "occurred_at": [AS_OF - timedelta(days=r[1]) for r in rows],
            "offence_group": [r[2] for r in rows],
            "harm": [INDEX.days(None, r[2]) or 0.0 for r in rows],
            "victim_key": [r[3] for r in rows],
            "domestic_abuse": [True] * len(rows),
        },
        schema=INCIDENT_SCHEMA,
    )


def one(frame: pl.DataFrame, person: str) -> dict[str, object]:
    return (
        score_frame(frame, AS_OF, ScoringConfig())
        .filter(pl.col("person_id") == person)
        .row(0, named=True)
    )


def test_default_harm_index_has_the_documented_days() -> None:
    assert INDEX.days(None, "Homicide") == 5475
    assert INDEX.days(None, "rape") == 2555
    assert INDEX.days(None, "Residential burglary") == 273.5
    assert INDEX.days(None, "Possession of weapons") == 273.75
    assert INDEX.days(None, "Criminal damage") == 2
    assert INDEX.days(None, "Shoplifting") is None


def test_recency_is_days_since_the_last_incident_before_the_date() -> None:
    frame = incidents(
        ("A", 30, "Public order", "v1"), ("A", 9, "Public order", "v1"), ("A", -5, "Rape", "v1")
    )
    row = one(frame, "A")
    assert row["recency_days"] == 9
    assert row["gravity"] == 15.0  # the incident after the date is not counted


def test_frequency_counts_only_the_last_twelve_months() -> None:
    frame = incidents(
        ("A", 10, "Public order", None),
        ("A", 364, "Public order", None),
        ("A", 400, "Public order", None),
    )
    assert one(frame, "A")["frequency"] == 2


def test_gravity_sums_harm_days_in_three_years() -> None:
    frame = incidents(
        ("A", 10, "Rape", None),
        ("A", 500, "Violence with injury", None),
        ("A", 1200, "Homicide", None),
    )
    assert one(frame, "A")["gravity"] == 2555 + 365


def test_two_distinct_victims_make_a_serial_perpetrator() -> None:
    frame = incidents(
        ("A", 10, "Public order", "v1"),
        ("A", 20, "Public order", "v1"),
        ("B", 10, "Public order", "v1"),
        ("B", 900, "Public order", "v2"),
        ("C", 10, "Public order", "v1"),
        ("C", 1200, "Public order", "v2"),
    )
    assert (one(frame, "A")["victims"], one(frame, "A")["serial"]) == (1, False)
    assert (one(frame, "B")["victims"], one(frame, "B")["serial"]) == (2, True)
    assert one(frame, "C")["victims"] == 1  # the second victim is outside the 3 years


def test_escalation_needs_rising_harm_over_recent_incidents() -> None:
    frame = incidents(
        ("UP", 300, "Criminal damage", None),
        ("UP", 200, "Violence without injury", None),
        ("UP", 100, "Violence with injury", None),
        ("UP", 10, "Rape", None),
        ("DOWN", 300, "Rape", None),
        ("DOWN", 200, "Violence with injury", None),
        ("DOWN", 100, "Public order", None),
        ("TWO", 200, "Public order", None),
        ("TWO", 100, "Rape", None),
    )
    assert one(frame, "UP")["escalating"] is True
    assert one(frame, "DOWN")["escalating"] is False
    assert one(frame, "TWO")["escalating"] is False  # fewer than three incidents


def test_ranking_order_on_a_hand_worked_set() -> None:
    # Worked by hand with the default weights (R1 F1 G2 V1, +10 escalating):
    # A: rape 5 days ago, one victim           → high gravity, recent
    # B: three assaults with injury, 3 victims → serial, frequent
    # C: one public-order offence 300 days ago → little of everything
    # D: nothing in the last three years       → not ranked
    frame = incidents(
        ("A", 5, "Rape", "a1"),
        ("B", 20, "Violence with injury", "b1"),
        ("B", 60, "Violence with injury", "b2"),
        ("B", 90, "Violence with injury", "b3"),
        ("C", 300, "Public order", "c1"),
        ("D", 1500, "Homicide", "d1"),
    )
    ranked = score_frame(frame, AS_OF, ScoringConfig())
    assert ranked["person_id"].to_list() == ["B", "A", "C"]
    assert ranked["rank"].to_list() == [1, 2, 3]
    b = ranked.row(0, named=True)
    # R = 0.5^(20/90); F = 3/10; G = ln(1096)/ln(5476); V = 3/5
    import math

    expected = 100 * (0.5 ** (20 / 90) + 0.3 + 2 * math.log1p(1095) / math.log1p(5475) + 0.6) / 5
    assert b["score"] == pytest.approx(expected, abs=0.01)


def test_per_force_rank_uses_the_latest_incidents_force() -> None:
    frame = incidents(("A", 5, "Rape", "a1"), ("B", 5, "Public order", "b1")).with_columns(
        force=pl.Series(["WMP", "NOT"])
    )
    ranked = score_frame(frame, AS_OF, ScoringConfig())
    assert dict(zip(ranked["person_id"], ranked["force_rank"], strict=True)) == {"A": 1, "B": 1}
    only_not = ranking_table(frame, AS_OF, ScoringConfig(), force="NOT")
    assert only_not["person_id"].to_list() == ["B"]
    assert only_not["rank"].to_list() == [1]


def test_explanation_mentions_every_component() -> None:
    frame = incidents(
        ("A", 9, "Rape", "v1"),
        ("A", 40, "Violence with injury", "v2"),
        ("A", 80, "Violence with injury", "v3"),
        ("A", 120, "Violence without injury", "v1"),
    )
    text = ranking_table(frame, AS_OF, ScoringConfig())["explanation"][0]
    assert "4 domestic-abuse incidents in 12 months" in text  # frequency
    assert "against 3 victims" in text
    assert "(serial)" in text
    assert "last 9 days ago" in text  # recency
    assert "harm 3,295 days" in text
    assert "one rape" in text
    assert "two assaults with injury" in text
    assert text.endswith("; escalating.")  # harm rose: assault, assaults with injury, rape


def test_explanation_of_a_single_incident_reads_naturally() -> None:
    c = Components(
        "X", 0, 1, 10.0, 1, False, False, 20.0, 0, 1, (("Violence without injury", 1, 10.0),)
    )
    text = explain(c, ScoringConfig())
    assert text.startswith("1 incident in 12 months against 1 victim")
    assert "last today" in text


def test_scoring_settings_are_checked() -> None:
    with pytest.raises(ValidationError) as caught:
        ScoringConfig.from_dict({"frequency_window_days": "1.5", "nonsense": 3})
    assert {e.field for e in caught.value.errors} == {"frequency_window_days", "nonsense"}
    with pytest.raises(ValidationError) as caught:
        ScoringConfig.from_dict({"weight_gravity": "-1"})
    assert caught.value.field == "weight_gravity"
    config = ScoringConfig.from_dict({"weight_gravity": "3"})
    assert config.weight_gravity == 3.0


def test_a_per_offence_table_loads_from_csv_and_overrides_the_subgroup() -> None:
    rows = parse_table(
        b"offence,offence_group,harm_days\nAssault occasioning actual bodily harm,,400\n"
        b",Public order,9\n",
        "table.csv",
    )
    index = INDEX.with_overrides(rows, "table.csv")
    assert index.days("assault occasioning  actual bodily harm", "Violence with injury") == 400
    assert index.days("Wounding", "Violence with injury") == 365
    assert index.days(None, "Public order") == 9


def test_a_harm_table_loads_from_xlsx(tmp_path: object) -> None:
    from io import BytesIO

    from openpyxl import Workbook  # type: ignore[import-untyped]

    book = Workbook()
    sheet = book.active
    sheet.append(["Offence", "Harm days"])
    sheet.append(["Controlling or coercive behaviour", 365])
    buffer = BytesIO()
    book.save(buffer)
    assert parse_table(buffer.getvalue(), "harm.xlsx") == [
        ("offence", "Controlling or coercive behaviour", 365.0)
    ]


def test_a_bad_harm_table_names_each_bad_row() -> None:
    with pytest.raises(ValidationError) as caught:
        parse_table(b"offence,harm_days\nA,ten\n,5\nB,-3\n", "t.csv")
    assert [e.field for e in caught.value.errors] == [
        "row 2.harm_days",
        "row 3.offence",
        "row 4.harm_days",
    ]


def test_names_and_dates_of_birth_rules() -> None:
    assert split_name("SMITH, John") == ("john", "smith")
    assert split_name("  José  O'Neil ") == ("jose", "neil")
    assert dob_similarity(date(1980, 3, 4), date(1980, 4, 3))[0] == 0.9
    assert dob_similarity(date(1980, 3, 4), date(1980, 3, 5))[0] == 0.8
    assert dob_similarity(date(1980, 3, 4), date(1981, 4, 5))[0] == 0.0
