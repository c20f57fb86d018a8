"""Contact service enforcement benchmark: call and mail checks against 1,000,000 active bars.

Prints a table: in-process call check (memory index) beside a plain indexed SQL lookup per check,
and the mail check. Checks over HTTP: bench/contact_http.py (wrk against a server on one core).

    .venv/bin/python bench/contact_checks.py [--items 1000000] [--checks 20000] [--database F]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import insert, select

from vigil.bootstrap import build_container
from vigil.contact import addresses, warmup
from vigil.contact import checks as dial_checks
from vigil.contact.index import (
    EMAIL_PURPOSE,  # noqa: F401 - imported so the purposes read side by side
    PHONE_PURPOSE,
    address_indexes,
)
from vigil.contact.phones import to_e164
from vigil.contact.tables import contact_bar_changes, contact_bar_items, contact_cases
from vigil.db import migrate
from vigil.security.model import Principal, Role
from vigil.settings import Environment, Settings, new_encryption_key_entry

PRISON = Principal(id=1, name="bench", role=Role.PRISON_SYSTEM, is_machine=True)
SECRET = "bench-secret-key-that-is-long-enough-0123456789"  # noqa: S105 - benchmark only
KEYS = new_encryption_key_entry("b1")
STREETS = ("HIGH STREET", "MILL LANE", "CHURCH ROAD", "PARK AVENUE", "STATION ROAD", "THE GREEN")
LETTERS = "ABDEFGHJLNPQRSTUWXYZ"


def settings(url: str) -> Settings:
    return Settings(
        environment=Environment.TEST,
        database_url=url,
        secret_key=SECRET,
        field_encryption_keys=KEYS,
    )


def number(i: int) -> str:
    return f"+4477{i:08d}"


def postcode(i: int) -> str:
    return f"B{i % 99 + 1} {i // 99 % 10}{LETTERS[i // 990 % 20]}{LETTERS[i // 19800 % 20]}"


def address(i: int) -> addresses.Address:
    return addresses.Address(postcode(i), str(i % 200 + 1), None, STREETS[i % 6], "BIRMINGHAM")


def seed(url: str, items: int) -> None:
    container = build_container(settings(url))
    cipher = container.cipher
    now = container.clock.now()
    enc = cipher.encrypt("bench value", "contact_bar_items.value_enc")
    with container.engine.begin() as conn:
        conn.execute(
            insert(contact_cases).values(
                reference="UPC-BENCH",
                status="barred",
                channel="api",
                requester_type="police",
                consent="yes",
                request_enc="-",
                submitted_at=now,
                updated_at=now,
            )
        )
        batch: list[dict[str, object]] = []
        for i in range(items):
            scope = "estate" if i % 4 == 0 else "prisoner"
            common = {
                "bar_id": i // 5 + 1,
                "case_id": 1,
                "scope": scope,
                "prison_number": None if scope == "estate" else f"A{i % 9000 + 1000}BC",
                "value_enc": enc,
                "active": True,
            }
            batch.append(
                {
                    **common,
                    "kind": "phone",
                    "match_index": cipher.blind_index(number(i), PHONE_PURPOSE),
                    "postcode_index": None,
                    "street_index": None,
                    "building_index": None,
                    "flat_index": None,
                    "town_index": None,
                }
            )
            keys = address_indexes(cipher.blind_index, address(i))
            batch.append(
                {
                    **common,
                    "kind": "address",
                    "match_index": keys.key,
                    "postcode_index": keys.postcode,
                    "street_index": keys.street,
                    "building_index": keys.building,
                    "flat_index": keys.flat,
                    "town_index": keys.town,
                }
            )
            if len(batch) >= 20_000:
                conn.execute(insert(contact_bar_items), batch)
                batch.clear()
        if batch:
            conn.execute(insert(contact_bar_items), batch)
        conn.execute(
            insert(contact_bar_changes).values(at=now, change="added", item_id=1, kind="phone")
        )
    container.engine.dispose()


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def row(name: str, samples_ms: list[float], note: str = "") -> str:
    return (
        f"| {name} | {len(samples_ms):,} | {statistics.median(samples_ms):.3f} | "
        f"{pct(samples_ms, 0.99):.3f} | {1000 / statistics.mean(samples_ms):,.0f} | {note} |"
    )


def in_process(url: str, items: int, checks: int) -> list[str]:
    container = build_container(settings(url))
    rss_before = _rss_mb()
    started = time.perf_counter()
    index = warmup.warm(container)  # what the start-up service does
    load_s = time.perf_counter() - started
    rss_growth = _rss_mb() - rss_before
    index.max_age = 3600.0  # refresh cost is measured above, not per check
    rng = random.Random(1)
    out: list[str] = []

    allowed: list[float] = []
    for _ in range(checks):
        dialled = f"07{rng.randrange(10**9):09d}"  # almost never a barred number
        t = time.perf_counter()
        dial_checks.call_check(
            container.uow, index, PRISON, "A1234BC", dialled, cipher=container.cipher
        )
        allowed.append((time.perf_counter() - t) * 1000)
    out.append(
        row(
            "call check, in process (memory index)",
            allowed,
            f"index of {len(index):,} items loaded in {load_s:.1f} s; RSS +{rss_growth:,.0f} MB "
            f"(numbers: {index.phone_table.nbytes / 1e6:.0f} MB of arrays)",
        )
    )

    barred: list[float] = []
    for _ in range(min(2000, checks)):
        i = rng.randrange(items) // 4 * 4  # estate-wide bars: refused for anyone
        t = time.perf_counter()
        result = dial_checks.call_check(
            container.uow, index, PRISON, "B2222CD", number(i), cipher=container.cipher
        )
        barred.append((time.perf_counter() - t) * 1000)
        assert not result.allowed
    out.append(
        row(
            "call check, in process, refused (attempt written)",
            barred,
            "includes the attempt row, audit entry and commit",
        )
    )

    sql: list[float] = []
    with container.engine.connect() as conn:
        for _ in range(checks):
            i = rng.randrange(items * 2)
            t = time.perf_counter()
            key = container.cipher.blind_index(to_e164(f"07{i:09d}"), PHONE_PURPOSE)
            conn.execute(
                select(
                    contact_bar_items.c.id,
                    contact_bar_items.c.scope,
                    contact_bar_items.c.prison_number,
                ).where(
                    contact_bar_items.c.kind == "phone",
                    contact_bar_items.c.match_index == key,
                    contact_bar_items.c.active.is_(True),
                )
            ).all()
            sql.append((time.perf_counter() - t) * 1000)
    out.append(
        row(
            "call check, plain indexed SQL lookup per check",
            sql,
            f"{container.engine.dialect.name}, same normalisation and blind index",
        )
    )

    mail: list[float] = []
    held: list[float] = []
    for n in range(checks):
        i = rng.randrange(items)
        if n % 100 == 0:
            # Now and then a letter to a barred address (estate-wide bars: every fourth item).
            i = i // 4 * 4
            envelope = f"J Doe, {i % 200 + 1} {STREETS[i % 6].title()}, Birmingham {postcode(i)}"
        else:
            # Same street and postcode as a barred address, another house: allowed.
            envelope = f"J Doe, {i % 200 + 201} {STREETS[i % 6].title()}, Leeds {postcode(i)}"
        t = time.perf_counter()
        result = dial_checks.mail_check(
            container.uow, index, PRISON, "C3333DE", envelope, cipher=container.cipher
        )
        (mail if result.allowed else held).append((time.perf_counter() - t) * 1000)
    out.append(
        row(
            "mail check, in process, allowed (parse + memory index)",
            mail,
            f"{len(index.postcodes):,} postcodes indexed; candidates share the postcode",
        )
    )
    if held:
        out.append(
            row(
                "mail check, in process, held (attempt written)",
                held,
                "includes the attempt row, audit entry and commit",
            )
        )
    container.engine.dispose()
    return out


def _rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--checks", type=int, default=20_000)
    parser.add_argument("--database", default=None, help="SQLite file (kept) or a URL")
    args = parser.parse_args()
    workdir = tempfile.mkdtemp(prefix="contact-bench-")
    url = args.database or f"sqlite:///{workdir}/bench.db"
    if not url.startswith(("sqlite", "postgresql")):
        url = f"sqlite:///{Path(url).resolve()}"
    fresh = url.startswith("sqlite") and not Path(url.removeprefix("sqlite:///")).exists()
    if fresh or not url.startswith("sqlite"):
        migrate.upgrade(url)
        t = time.perf_counter()
        seed(url, args.items)
        print(
            f"seeded {args.items:,} barred numbers and {args.items:,} barred addresses "
            f"in {time.perf_counter() - t:.0f} s",
            file=sys.stderr,
        )
    lines = [
        "| check | samples | p50 ms | p99 ms | checks/s | note |",
        "|---|---:|---:|---:|---:|---|",
    ]
    lines += in_process(url, args.items, args.checks)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
