"""Coverage-guided fuzzing of every device decoder and parser with atheris (libFuzzer).

For each target, libFuzzer runs ``--runs`` inputs (1,000,000 by default) through the same code a
device door runs: the stream framer, then the decoder, for a connection that has and has not
logged in; the OsmAnd request parser (query, form and JSON bodies) and the OwnTracks message
parser. ``DecodeError`` is the decoders' way of refusing input and is expected; any other
exception is a crash, a single input slower than ``--timeout`` seconds a hang, and a process over
``--rss-mb`` unbounded memory. Each target runs in its own process and the table gives inputs,
inputs per second, the peak memory, and the outcome.

    pip install atheris          # a PyPI wheel; no compiler needed on x86_64 Linux
    .venv/bin/python bench/fuzz_decoders.py [--runs 1000000] [--targets teltonika,gt06]

Used by ``make fuzz``; the figures are recorded in docs/security.md.
"""

from __future__ import annotations

import argparse
import contextlib
import platform
import re
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

TARGETS = ("teltonika", "gt06", "watch", "osmand", "owntracks")
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def _stream_target(name: str) -> object:
    from vigil.gateways import registry
    from vigil.gateways.model import DecodeError, Session

    protocol = registry.get(name)
    split, decode = protocol.split_frames, protocol.decode
    assert split is not None

    def one_input(data: bytes) -> None:
        frames, _junk = split(bytearray(data))
        # A fresh connection, and one whose device has logged in (reaching the data decoders).
        for session in (Session(name), Session(name, device_id="356938035643809")):
            for frame in frames:
                with contextlib.suppress(DecodeError):
                    decode(frame, session, NOW)

    return one_input


def _osmand_target() -> object:
    from vigil.gateways import osmand
    from vigil.gateways.model import DecodeError

    kinds = ("", "application/x-www-form-urlencoded", "application/json", "text/plain")

    def one_input(data: bytes) -> None:
        # The first byte picks the content type; the query and body are split at the first NUL.
        if not data:
            return
        query, _, body = data[1:].partition(b"\x00")
        with contextlib.suppress(DecodeError):
            osmand.decode_request(query.decode("latin-1"), body, kinds[data[0] % len(kinds)], NOW)

    return one_input


def _owntracks_target() -> object:
    from vigil.gateways import owntracks
    from vigil.gateways.model import DecodeError

    def one_input(data: bytes) -> None:
        with contextlib.suppress(DecodeError):
            owntracks.decode_payload(data, "alice/phone", NOW)

    return one_input


def fuzz(target: str, runs: int, timeout_s: int, rss_mb: int) -> None:
    """Run in a child process: libFuzzer exits the process when it is done."""
    import atheris

    with atheris.instrument_imports():
        if target == "osmand":
            one_input = _osmand_target()
        elif target == "owntracks":
            one_input = _owntracks_target()
        else:
            one_input = _stream_target(target)
    args = [
        sys.argv[0],
        f"-runs={runs}",
        "-max_len=2048",
        f"-timeout={timeout_s}",
        f"-rss_limit_mb={rss_mb}",
        "-print_final_stats=1",
    ]
    atheris.Setup(args, one_input)
    atheris.Fuzz()


def run(
    target: str, runs: int, timeout_s: int, rss_mb: int, logs: Path
) -> tuple[str, int, float, int, str]:
    started = time.perf_counter()
    log_path = logs / f"{target}.log"  # libFuzzer's own progress lines, to watch a long run
    with log_path.open("w") as log_file:
        child = subprocess.run(
            [sys.executable, __file__, "--child", target, "--runs", str(runs),
             "--timeout", str(timeout_s), "--rss-mb", str(rss_mb)],
            stdout=log_file,
            stderr=subprocess.STDOUT,
            check=False,
        )  # fmt: skip
    seconds = time.perf_counter() - started
    log = log_path.read_text(errors="replace")
    done = re.search(r"stat::number_of_executed_units:\s*(\d+)", log)
    peak = re.search(r"stat::peak_rss_mb:\s*(\d+)", log)
    if child.returncode == 0 and done:
        outcome = "no crash, hang or leak"
    else:
        crash = re.search(
            r"(==\d+== ERROR: libFuzzer: [^\n]*|Uncaught Python exception: [^\n]*)", log
        )
        outcome = crash.group(1) if crash else f"exit {child.returncode}"
        tail = "\n".join(log.strip().splitlines()[-30:])
        print(f"--- {target} ---\n{tail}", file=sys.stderr)
    executed = int(done.group(1)) if done else 0
    return target, executed, seconds, int(peak.group(1)) if peak else 0, outcome


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=1_000_000)
    parser.add_argument("--targets", default=",".join(TARGETS))
    parser.add_argument("--timeout", type=int, default=5)
    parser.add_argument("--rss-mb", type=int, default=2048)
    parser.add_argument("--child")
    args = parser.parse_args()
    if args.child:
        sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
        fuzz(args.child, args.runs, args.timeout, args.rss_mb)
        return
    print(f"{platform.machine()}, Python {platform.python_version()}, "
          f"{datetime.now(UTC):%Y-%m-%d}, {args.runs:,} inputs per target")  # fmt: skip
    print()
    print("| Target | Inputs | Seconds | Inputs/s | Peak RSS MB | Outcome |")
    print("|---|---|---|---|---|---|")
    failed = False
    logs = Path(tempfile.mkdtemp(prefix="vigil-fuzz-"))
    print(f"libFuzzer logs: {logs}\n", file=sys.stderr)
    for target in args.targets.split(","):
        name, executed, seconds, peak, outcome = run(
            target, args.runs, args.timeout, args.rss_mb, logs
        )
        failed |= outcome != "no crash, hang or leak"
        rate = executed / seconds
        print(f"| {name} | {executed:,} | {seconds:.0f} | {rate:,.0f} | {peak} | {outcome} |")
        sys.stdout.flush()
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
