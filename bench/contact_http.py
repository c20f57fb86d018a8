"""Call checks over HTTP: the web app's POST /api/contact/call-check on one pinned core, with wrk.

The server process (uvicorn, httptools, uvloop, the whole Vigil app) is pinned to CPU 0 and wrk
to the other CPUs. The table gives wrk's rate and latency and the server's own CPU time, so
"checks per CPU-second" is its capacity on one core even when the machine is shared and busy.
Each mode is run against the same database of barred numbers:

* ``index`` - the memory index warmed at start-up (what ``vigil.contact.warmup`` does);
* ``sql``   - the index left cold, so every check is the plain indexed SQL lookup;
* ``port``, ``port-sql`` - the same on the dedicated check port (``vigil.contact.checkport``,
  a lean HTTP/1.1 server on uvloop) instead of the web app.

A share of the checks (``--refused-every N``: one in N) dial an estate-wide barred number; those
are refused, confirmed in the database and recorded on the case (attempt row, audit entry,
commit), so the mix measures both paths.

    .venv/bin/python bench/contact_http.py --database /tmp/contact-bench-1m.db \
        [--items 1000000] [--seconds 10] [--connections 32] [--refused-every 0] [--modes index,sql]

Needs ``wrk`` (Debian package ``wrk``). The database is seeded by bench/contact_checks.py's
``seed`` when the file does not exist yet.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from contact_checks import number, seed, settings
from vigil.bootstrap import build_container
from vigil.db import migrate
from vigil.security import machine_tokens
from vigil.security.model import Role

SERVER_CPUS = {0}
LUA = """
local token = "{token}"
local barred = {{{barred}}}
local every = {every}
local n = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. token
request = function()
  n = n + 1
  local dialled
  if every > 0 and n % every == 0 then
    dialled = barred[math.floor(n / every) % #barred + 1]
  else
    dialled = string.format("079%08d", math.random(0, 99999999))
  end
  wrk.body = '{{"prison_number":"A1234BC","number":"' .. dialled .. '"}}'
  return wrk.format()
end
local shown = 0
response = function(status, headers, body)
  if status ~= 200 and shown < 3 then
    shown = shown + 1
    io.stderr:write("non-200: " .. status .. " " .. body .. "\\n")
  end
end
"""


def _cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _waited_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/schedstat") as f:
        return int(f.read().split()[1]) / 1e9


def _rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def serve(url: str, mode: str, port: int, ready: mp.Queue) -> None:  # type: ignore[type-arg]
    os.sched_setaffinity(0, SERVER_CPUS)
    import uvicorn

    from vigil.contact import warmup
    from vigil.logs import configure_logging
    from vigil.web.app import create_app

    configure_logging("WARNING")
    container = build_container(settings(url))
    started = time.perf_counter()
    if not mode.endswith("sql"):
        warmup.warm(container.enforcement_index, container.engine)
    ready.put(time.perf_counter() - started)
    if mode.startswith("port"):
        import uvloop

        from vigil.contact import checkport

        async def lean() -> None:
            await checkport.start(container.check_port(), "127.0.0.1", port)
            await asyncio.Event().wait()

        uvloop.run(lean())
        return
    uvicorn.run(
        create_app(container),
        host="127.0.0.1",
        port=port,
        log_config=None,
        access_log=False,
        loop="uvloop",
        http="httptools",
    )


def run_mode(url: str, token: str, mode: str, args: argparse.Namespace) -> str:
    ctx = mp.get_context("spawn")
    ready: mp.Queue = ctx.Queue()  # type: ignore[type-arg]
    port = 19000 + os.getpid() % 1000
    server = ctx.Process(target=serve, args=(url, mode, port, ready))
    server.start()
    try:
        load_s = ready.get(timeout=1800)
        pid = server.pid
        assert pid is not None
        target = f"http://127.0.0.1:{port}/api/contact/call-check"
        for _ in range(100):
            probe = subprocess.run(
                ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-X", "POST", target],
                capture_output=True,
                text=True,
                check=False,
            )
            if probe.stdout == "401":
                break
            time.sleep(0.2)
        barred = ",".join(f'"{number(i * 4)}"' for i in range(0, 2000))
        script = Path(tempfile.mkdtemp(prefix="contact-wrk-")) / "post.lua"
        script.write_text(LUA.format(token=token, barred=barred, every=args.refused_every))
        others = set(range(os.cpu_count() or 1)) - SERVER_CPUS
        pin = ["taskset", "-c", ",".join(map(str, sorted(others)))] if others else []
        # A short warm-up so connection set-up and first-use costs stay out of the numbers.
        wrk = ["wrk", "-t1", f"-c{args.connections}", "--latency", "-s", str(script)]
        first = subprocess.run([*pin, *wrk, "-d2s", target], capture_output=True, text=True)
        print(first.stderr, end="", file=sys.stderr)
        cpu, waited = _cpu_seconds(pid), _waited_seconds(pid)
        load = os.getloadavg()
        out = subprocess.run(
            [*pin, *wrk, f"-d{args.seconds}s", target], capture_output=True, text=True, check=True
        ).stdout
        cpu, waited = _cpu_seconds(pid) - cpu, _waited_seconds(pid) - waited
        rss = _rss_mb(pid)
    finally:
        server.terminate()
        server.join(10)
    requests = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    p50 = re.search(r"^\s+50%\s+(\S+)", out, re.MULTILINE).group(1)  # type: ignore[union-attr]
    p99 = re.search(r"^\s+99%\s+(\S+)", out, re.MULTILINE).group(1)  # type: ignore[union-attr]
    mix = f"1 in {args.refused_every} refused" if args.refused_every else "all allowed"
    label = {
        "index": "web app, memory index",
        "sql": "web app, plain indexed SQL lookup",
        "port": "check port, memory index",
        "port-sql": "check port, plain indexed SQL lookup",
    }[mode]
    return (
        f"| {label} | {mix} | {requests:,} | {rate:,.0f} | {p50} | {p99} | "
        f"{errors.group(1) if errors else 0} | {cpu:.2f} | {requests / cpu:,.0f} | {waited:.2f} | "
        f"{load[0]:.1f} | {rss:,.0f} | {load_s:.1f} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database", required=True, help="SQLite file (seeded when missing)")
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--refused-every", type=int, default=0)
    parser.add_argument("--modes", default="index,sql,port,port-sql")
    args = parser.parse_args()
    path = Path(args.database).resolve()
    url = f"sqlite:///{path}"
    if not path.exists():
        migrate.upgrade(url)
        seed(url, args.items)
    container = build_container(settings(url))
    with container.uow() as uow:
        token = machine_tokens.create_token(uow, role=Role.PRISON_SYSTEM, name="bench http")
        uow.commit()
    container.engine.dispose()
    print(
        f"cpus={os.cpu_count()} server on CPU {sorted(SERVER_CPUS)}, wrk on the others, "
        f"{args.connections} connections, {args.seconds} s per run"
    )
    print(
        "| check | mix | requests | req/s (wall) | p50 | p99 | non-2xx | server CPU s | "
        "checks/CPU-s | server waited s | load avg | server RSS MB | index load s |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for mode in args.modes.split(","):
        print(run_mode(url, token, mode, args), flush=True)


if __name__ == "__main__":
    main()
