from __future__ import annotations

import base64
import os

import pytest

from vigil.security.crypto import DecryptionError, FieldCipher


def _key() -> bytes:
    return os.urandom(32)


def test_a_value_round_trips_and_names_its_key() -> None:
    cipher = FieldCipher({"k1": _key()}, index_key=b"index")
    stored = cipher.encrypt("12 Acacia Avenue, Coventry", "protected_persons.address")
    assert stored.startswith("enc1:k1:")
    assert "Acacia" not in stored
    assert cipher.decrypt(stored, "protected_persons.address") == "12 Acacia Avenue, Coventry"


def test_old_values_still_decrypt_after_a_key_rotation() -> None:
    old = _key()
    before = FieldCipher({"k1": old}, index_key=b"index")
    stored = before.encrypt("07700 900123", "protected_persons.phone")
    after = FieldCipher({"k2": _key(), "k1": old}, index_key=b"index")
    assert after.active_key_id == "k2"
    assert after.decrypt(stored, "protected_persons.phone") == "07700 900123"
    assert after.encrypt("x", "f").startswith("enc1:k2:")


def test_a_value_moved_to_another_field_does_not_decrypt() -> None:
    cipher = FieldCipher({"k1": _key()}, index_key=b"index")
    stored = cipher.encrypt("Jane", "protected_persons.name")
    with pytest.raises(DecryptionError, match="altered or moved"):
        cipher.decrypt(stored, "protected_persons.address")


def test_a_tampered_value_is_refused() -> None:
    cipher = FieldCipher({"k1": _key()}, index_key=b"index")
    prefix, key_id, payload = cipher.encrypt("Jane", "f").split(":")
    raw = bytearray(base64.urlsafe_b64decode(payload))
    raw[-1] ^= 1
    tampered = f"{prefix}:{key_id}:{base64.urlsafe_b64encode(bytes(raw)).decode()}"
    with pytest.raises(DecryptionError):
        cipher.decrypt(tampered, "f")


def test_an_unknown_key_id_is_reported() -> None:
    cipher = FieldCipher({"k1": _key()}, index_key=b"index")
    with pytest.raises(DecryptionError, match="unknown encryption key"):
        cipher.decrypt("enc1:k9:AAAA", "f")


def test_blind_index_is_stable_across_key_rotation_and_separates_purposes() -> None:
    one = FieldCipher({"k1": _key()}, index_key=b"index")
    two = FieldCipher({"k2": _key()}, index_key=b"index")
    assert one.blind_index("+447700900123", "phone") == two.blind_index("+447700900123", "phone")
    assert one.blind_index("+447700900123", "phone") != one.blind_index("+447700900123", "email")
