"""``vigil decode --protocol P PAYLOAD``: what a device sent, as a field engineer sees it."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from typing import Annotated, Any

import typer

from vigil.gateways import registry, validate
from vigil.gateways.model import DecodeError, Session
from vigil.tracking.model import Fix

app = typer.Typer(
    help="The device doors: decode a device message and print what Vigil makes of it."
)


def fix_json(fix: Fix, reason: str | None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "device": fix.device_id,
        "time": fix.fix_time.isoformat(),
        "valid": fix.valid,
        "lat": fix.lat,
        "lon": fix.lon,
        "accuracy_m": fix.accuracy_m,
        "approximate": fix.approximate,
        "speed_mps": fix.speed_mps,
        "heading": fix.heading,
        "altitude_m": fix.altitude_m,
        "satellites": fix.satellites,
        "battery_pct": fix.battery_pct,
        "charging": fix.charging,
        "alarms": sorted(a.value for a in fix.alarms),
        "attributes": fix.attributes,
    }
    if reason:
        out["rejected"] = reason
    return {k: v for k, v in out.items() if v is not None}


def decode_lines(protocol: str, payload: str, device: str | None, now: datetime) -> list[str]:
    """The JSON lines ``vigil decode`` prints (a fix, a reply, or an error with its reason)."""
    spec = registry.get(protocol)
    if spec.binary:
        cleaned = "".join(payload.split())
        try:
            data = bytes.fromhex(cleaned)
        except ValueError as exc:
            raise DecodeError("bad_hex", f"PAYLOAD for {protocol} must be hex: {exc}") from exc
    else:
        data = payload.encode("utf-8")
    # Stream protocols need a login first; assume one so a single data frame can be read.
    session = Session(protocol, device_id=device or ("000000000000000" if spec.binary else None))
    lines = []
    for decoded in registry.decode_capture(protocol, data, session, now):
        if decoded.login:
            lines.append(json.dumps({"login": decoded.login}))
        for fix in decoded.fixes:
            lines.append(json.dumps(fix_json(fix, validate.problem(fix)), default=str))
        if decoded.reply:
            lines.append(
                json.dumps(
                    {
                        "reply": decoded.reply.hex()
                        if spec.binary
                        else decoded.reply.decode("latin-1")
                    }
                )
            )
        if not decoded.crc_ok:
            lines.append(json.dumps({"warning": "crc_mismatch"}))
    if not lines:
        lines.append(json.dumps({"note": "decoded; nothing to report (e.g. a keep-alive)"}))
    return lines


@app.command("decode")
def decode(
    protocol: Annotated[str, typer.Option(help="osmand, owntracks, teltonika, gt06 or watch")],
    payload: Annotated[
        str,
        typer.Argument(
            help="hex for binary protocols, else text, a path?query or JSON; - reads stdin"
        ),
    ],
    device: Annotated[str | None, typer.Option(help="device id to assume (before a login)")] = None,
) -> None:
    """Print each decoded message as a JSON line, or the reason it could not be decoded."""
    text = sys.stdin.read() if payload == "-" else payload
    try:
        for line in decode_lines(protocol, text, device, datetime.now(UTC)):
            typer.echo(line)
    except DecodeError as exc:
        typer.echo(json.dumps({"error": exc.reason, "detail": exc.detail}))
        raise typer.Exit(1) from exc
