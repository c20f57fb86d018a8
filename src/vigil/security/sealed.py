"""Short-lived values a browser carries between two steps of signing in, sealed with the secret
key so the browser can neither read another user into them nor keep them past their time.

Used between the password and the code (which user) and between leaving for the identity
provider and coming back (which request, which nonce). Not encrypted: nothing in them is secret
from the browser that holds them.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import datetime

from vigil.text import ascii_digits


def _mac(key: str, body: str) -> str:
    return hmac.new(key.encode(), body.encode(), hashlib.sha256).hexdigest()


def seal(key: str, payload: dict[str, str], until: datetime) -> str:
    data = {"until": str(int(until.timestamp())), **payload}
    body = base64.urlsafe_b64encode(json.dumps(data, sort_keys=True).encode()).decode()
    return f"{body}.{_mac(key, body)}"


def unseal(key: str, value: str, now: datetime) -> dict[str, str] | None:
    """The payload, or None when the value was altered, is not ours, or has expired."""
    body, _, mac = value.rpartition(".")
    if not body or not hmac.compare_digest(mac, _mac(key, body)):
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode(body.encode()))
    except ValueError:
        return None
    if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
        return None
    until = data.pop("until", "")
    if not ascii_digits(until) or int(until) < now.timestamp():
        return None
    return data
