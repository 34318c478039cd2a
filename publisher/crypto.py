"""Encryption of stored secrets (channel access and refresh tokens) with a key derived from the secret key."""

from __future__ import annotations

import base64
import json
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


def _fernet(secret_key: str) -> Fernet:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"loa-publisher", info=b"stored-secrets").derive(
        secret_key.encode("utf-8")
    )
    return Fernet(base64.urlsafe_b64encode(key))


def encrypt_json(secret_key: str, value: dict[str, Any]) -> str:
    return _fernet(secret_key).encrypt(json.dumps(value).encode("utf-8")).decode("ascii")


def decrypt_json(secret_key: str, token: str | None) -> dict[str, Any]:
    """The stored secrets, or ``{}`` when there are none; a token made with another key raises ValueError."""
    if not token:
        return {}
    try:
        return json.loads(_fernet(secret_key).decrypt(token.encode("ascii")))
    except InvalidToken:
        raise ValueError("stored secrets cannot be decrypted with this PUBLISHER_SECRET_KEY") from None
