"""The sound the alert queue plays for a new critical alert, made here rather than fetched: a
short falling two-tone chime (A5 then E5), 8-bit mono WAV, generated from this code alone, so
there is no third-party asset to license and nothing loaded from elsewhere."""

from __future__ import annotations

import io
import math
import wave
from functools import cache

RATE = 8000  # samples a second: plenty for two tones under 1 kHz
TONES = ((880.0, 0.18), (659.25, 0.26))  # (hertz, seconds)
FADE_S = 0.02  # ramps at each end of a tone, so it starts and stops without a click
VOLUME = 0.6


def _tone(hertz: float, seconds: float) -> bytes:
    count = int(RATE * seconds)
    fade = int(RATE * FADE_S)
    samples = bytearray()
    for i in range(count):
        envelope = min(1.0, i / fade, (count - i) / fade)
        value = VOLUME * envelope * math.sin(2 * math.pi * hertz * i / RATE)
        samples.append(round(128 + 127 * value))  # 8-bit WAV samples are unsigned
    return bytes(samples)


@cache
def critical_alert_chime() -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(1)
        out.setframerate(RATE)
        out.writeframes(b"".join(_tone(hertz, seconds) for hertz, seconds in TONES))
    return buffer.getvalue()
