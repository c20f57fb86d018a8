"""Field encryption for protected persons' details (AES-256-GCM, key id stored with the value)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

PREFIX = "enc1"


class DecryptionError(Exception):
    pass


class FieldCipher:
    """Encrypts with the active key; decrypts with whichever key id the value names.

    The field's name is bound in as associated data, so a ciphertext copied into another column
    does not decrypt there.
    """

    def __init__(
        self, keys: dict[str, bytes], index_key: bytes, active_key_id: str | None = None
    ) -> None:
        if not keys:
            raise ValueError("at least one field-encryption key is needed")
        self._keys = {key_id: AESGCM(key) for key_id, key in keys.items()}
        # Separate from the encryption keys so rotating those keeps lookups working.
        self._index_key = hashlib.sha256(b"vigil-blind-index\x00" + index_key).digest()
        self.active_key_id = active_key_id or next(iter(keys))
        if self.active_key_id not in self._keys:
            raise ValueError(f"active key {self.active_key_id!r} is not among the keys")

    def encrypt(self, plaintext: str, field: str) -> str:
        nonce = os.urandom(12)
        sealed = self._keys[self.active_key_id].encrypt(nonce, plaintext.encode(), field.encode())
        payload = base64.urlsafe_b64encode(nonce + sealed).decode()
        return f"{PREFIX}:{self.active_key_id}:{payload}"

    def decrypt(self, stored: str, field: str) -> str:
        try:
            prefix, key_id, payload = stored.split(":", 2)
        except ValueError as exc:
            raise DecryptionError(f"{field}: value is not an encrypted field") from exc
        if prefix != PREFIX or key_id not in self._keys:
            raise DecryptionError(f"{field}: unknown encryption key {key_id!r}")
        raw = base64.urlsafe_b64decode(payload.encode())
        try:
            return self._keys[key_id].decrypt(raw[:12], raw[12:], field.encode()).decode()
        except InvalidTag as exc:
            raise DecryptionError(f"{field}: ciphertext was altered or moved") from exc

    def encrypt_optional(self, plaintext: str | None, field: str) -> str | None:
        return None if plaintext is None else self.encrypt(plaintext, field)

    def decrypt_optional(self, stored: str | None, field: str) -> str | None:
        return None if stored is None else self.decrypt(stored, field)

    def blind_index(self, normalised: str, purpose: str) -> str:
        """A keyed hash for exact-match lookups (e.g. a barred number) without storing plaintext."""
        message = f"{purpose}\x00{normalised}".encode()
        return hmac.new(self._index_key, message, hashlib.sha256).hexdigest()
