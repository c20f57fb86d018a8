"""Late and out-of-order fixes: evaluated by fix time, raised as retrospective, never duplicated."""

from __future__ import annotations

from pathlib import Path

from tests.engine.helpers import Stream, circle, of_kind, run, scenario, seconds


def test_an_entry_uploaded_late_is_raised_retrospectively_with_its_real_start(
    tmp_path: Path,
) -> None:
    # Live and well away; then the tag goes offline, comes back at 1210 s, first sends its
    # current fix and then its buffer (in time order), which holds five minutes inside the zone.
    # By the time it reconnects the wearer has left again, so only the buffer shows the entry.
    stream = Stream().walk(0, 300, 10, -1000, -1000)
    stream.fix(1210, -1000)
    stream.walk(310, 600, 10, -1000, -400).walk(610, 900, 10, 0, 0).walk(910, 1200, 10, -100, -1000)
    stream.walk(1220, 1500, 10, -1000, -1000)
    records, engine = run(scenario(circle("Z1", 300)), stream, tmp_path)
    [violation] = of_kind(records, "exclusion_zone")
    assert abs(seconds(violation["start"]) - 602.5) <= 5  # crossed between 600 s and 610 s
    assert seconds(violation["raised_at"]) >= 1210
    assert violation["retrospective"] is True
    assert engine.stats.late_fixes > 0


def test_a_late_batch_inside_an_open_violation_does_not_duplicate_it(tmp_path: Path) -> None:
    stream = Stream().walk(0, 240, 10, -1000, -1000).walk(250, 290, 10, -800, -400)
    stream.walk(300, 900, 60, 0, 0)  # live but sparse: one fix a minute inside
    # The tag then uploads the fixes it kept between the sparse ones.
    for second in range(310, 900, 10):
        if second % 60:
            stream.fix(second, 5)
    stream.walk(910, 1200, 10, -1000, -1000)
    records, _ = run(scenario(circle("Z1", 300)), stream, tmp_path)
    assert len(of_kind(records, "exclusion_zone")) == 1
    assert len({record["id"] for record in records}) == len(records)


def test_a_violation_already_raised_keeps_its_identity_when_late_fixes_refine_it(
    tmp_path: Path,
) -> None:
    live = (
        Stream()
        .walk(0, 300, 10, -1000, -1000)
        .walk(600, 900, 10, 0, 0)
        .walk(910, 1200, 10, -1000, -1000)
    )
    first, _ = run(scenario(circle("Z1", 300)), live, tmp_path)
    late = Stream(rows=list(live.rows))
    # The gap 300-600 s arrives at the end: it shows the wearer went in earlier, at ~380 s.
    late.walk(310, 400, 10, -1000, -100).walk(410, 590, 10, -100, -100)
    (tmp_path / "again").mkdir()
    second, _ = run(scenario(circle("Z1", 300)), late, tmp_path / "again")
    [before] = of_kind(first, "exclusion_zone")
    [after] = of_kind(second, "exclusion_zone")
    assert after["id"] == before["id"]
    assert seconds(after["start"]) < seconds(before["start"])


def test_fixes_arriving_out_of_order_give_the_same_violations_as_in_order(tmp_path: Path) -> None:
    ordered = Stream().walk(0, 1200, 10, -1000, 800)
    shuffled = Stream(rows=list(ordered.rows))
    # Swap neighbours pairwise: every other fix arrives just after its successor.
    for i in range(0, len(shuffled.rows) - 1, 2):
        shuffled.rows[i], shuffled.rows[i + 1] = shuffled.rows[i + 1], shuffled.rows[i]
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    in_order, _ = run(scenario(circle("Z1", 300)), ordered, tmp_path / "a")
    out_of_order, engine = run(scenario(circle("Z1", 300)), shuffled, tmp_path / "b")
    [a] = of_kind(in_order, "exclusion_zone")
    [b] = of_kind(out_of_order, "exclusion_zone")
    assert (a["id"], a["start"], a["end"]) == (b["id"], b["start"], b["end"])
    assert engine.stats.rewinds > 0
