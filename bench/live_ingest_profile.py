"""Where the server's time goes per fix: a ``py-spy record --nonblocking --format raw`` profile
(collapsed stacks) of ``bench/live_ingest.py --profile``, and the cyclic garbage collector's own
time, measured in the server by a ``gc.callbacks`` probe (``GC_PROBE``, loaded as the server's
``sitecustomize``), since without native frames py-spy charges it to whatever allocated.

Non-blocking sampling leaves the server's speed alone (py-spy's default pauses the process for
each sample, which here raised its CPU time by half and skewed the shares towards Python-heavy
code), but py-spy then cannot always tell a waiting thread from a running one: samples whose
innermost frames wait (a lock, a condition, an idle executor thread, PostgreSQL's answer) are
dropped. The rest are split into parts, native work (the collector, the database) wherever it is
called from and everything else by the innermost Vigil frame on the stack, and turned into
microseconds per fix with the run's CPU seconds per fix.

    .venv/bin/python bench/live_ingest_profile.py PROFILE CPU_US_PER_FIX
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

WAITING = (
    "PyThread_acquire_lock_timed",
    "pthread_cond_wait",
    "pthread_cond_timedwait",
    "epoll_pwait",
    "epoll_wait",
    "clock_nanosleep",
    "nanosleep",
    "futex",
    "take_gil",
    "_worker (concurrent/futures/thread.py:81)",  # an executor thread waiting for work
    "Connection.wait (psycopg/",  # the engine's thread waiting for PostgreSQL's answer
)

# Native work named wherever it is called from; the first of these found on the stack wins.
NATIVE: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("cyclic garbage collector", ("gc_collect_main",)),
    ("commit (SQLite WAL write; PostgreSQL round trip)", ("do_commit", "_commit_impl")),
    (
        "database driver and SQLite (C)",
        (
            "pysqlite_",
            "sqlite3_",
            "libsqlite",
            "libpq",
            "PQ",
            "pq_",
            "psycopg/",
        ),
    ),
)
# Everything else by the innermost Vigil frame: (part, module texts).
VIGIL: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("trail store: Python (rows, keys; SQLAlchemy under it)", ("vigil/tracking/",)),
    ("engine: events and state saved", ("vigil/engine/service.py", "vigil/engine/ledger.py")),
    ("engine runner: wearers, batch columns", ("vigil/engine/runner.py",)),
    ("engine: evaluation", ("vigil/engine/", "vigil/geo/")),
    (
        "gateway: Teltonika decode, Fix objects",
        (
            "vigil/gateways/teltonika",
            "vigil/gateways/binary.py",
            "vigil/gateways/model.py",
        ),
    ),
    (
        "gateway: screen (validate, register)",
        (
            "Intake.screen",
            "vigil/gateways/validate.py",
            "vigil/gateways/directory.py",
        ),
    ),
    ("bus: publish, queues, receipts", ("vigil/bus/", "Intake.hand_on")),
    ("gateway: connection, framing, answers, commands", ("vigil/gateways/",)),
    ("unit of work, database set-up", ("vigil/db/",)),
    ("alerts, web and other services", ("vigil/",)),
)
# The process's entry and supervision: on every stack, they say nothing about the work.
ROOTS = ("vigil/cli.py", "vigil/runtime.py", "vigil/supervisor.py")
LOOP = ("uv_", "uv__", "UVStream", "Loop__", "Handle__run", "task_step", "asyncio")


# The server's sitecustomize with --profile: the collector's time per generation, written to
# $LIVE_INGEST_GC as "collections seconds" lines (generations 0, 1, 2) as it goes.
GC_PROBE = """
import gc, os, time
_out = os.environ["LIVE_INGEST_GC"]
_stats = [[0, 0.0], [0, 0.0], [0, 0.0]]
_began = [0.0]
def _probe(phase, info):
    if phase == "start":
        _began[0] = time.perf_counter()
        return
    mine = _stats[info["generation"]]
    mine[0] += 1
    mine[1] += time.perf_counter() - _began[0]
    if info["generation"] or mine[0] % 20 == 0:
        with open(_out, "w") as f:
            f.write("".join(f"{n} {s}\\n" for n, s in _stats))
gc.callbacks.append(_probe)
"""


def gc_seconds(path: Path) -> list[tuple[int, float]]:
    """(collections, seconds) per generation so far, from the probe's file."""
    if not path.exists():
        return [(0, 0.0)] * 3
    return [
        (int(n), float(s))
        for n, s in (line.split() for line in path.read_text().split("\n") if line)
    ]


def read(path: str) -> Counter[str]:
    """Samples per part, waiting threads left out."""
    parts: Counter[str] = Counter()
    with open(path) as f:
        for line in f:
            stack, _, count = line.rstrip().rpartition(" ")
            frames = stack.split(";")
            if any(wait in frame for frame in frames[-4:] for wait in WAITING):
                continue
            parts[_part(stack)] += int(count)
    return parts


def _part(stack: str) -> str:
    for name, texts in NATIVE:
        if any(text in stack for text in texts):
            return name
    frames = stack.split(";")
    for frame in reversed(frames):
        if "vigil/" in frame and not any(root in frame for root in ROOTS):
            return next(name for name, texts in VIGIL if any(text in frame for text in texts))
    if any(text in stack for text in LOOP):
        return "event loop and sockets (uvloop, asyncio)"
    return "other"


def summary(path: str, cpu_us_per_fix: float) -> list[str]:
    parts = read(path)
    total = sum(parts.values())
    lines = [f"{'part':<52} {'share':>6} {'µs/fix':>7}"]
    for name, samples in parts.most_common():
        share = samples / total
        lines.append(f"{name:<52} {share:>6.1%} {share * cpu_us_per_fix:>7.1f}")
    return lines


if __name__ == "__main__":
    print("\n".join(summary(sys.argv[1], float(sys.argv[2]))))
