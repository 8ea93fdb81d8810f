"""``X-Hub-Signature-256`` verification: HMAC-SHA256 of the exact body bytes.

The check runs on the raw bytes as received, before any JSON parsing: re-serialising the
JSON (key order, escaping of non-ASCII text) changes the bytes and must fail. The legacy
SHA-1 header (``X-Hub-Signature``) is ignored.
"""

from __future__ import annotations

import hashlib
import hmac
from enum import Enum

HEADER = "X-Hub-Signature-256"
_PREFIX = "sha256="


class SignatureCheck(Enum):
    """Outcome of a check; the web layer maps each to an HTTP status."""

    VALID = "valid"
    MISSING = "missing"  # no header: 401
    INVALID = "invalid"  # wrong or malformed: 403


def sign(body: bytes, secret: str) -> str:
    """The header value Meta would send for ``body``."""
    return _PREFIX + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def check_signature(body: bytes, header: str | None, secret: str) -> SignatureCheck:
    """Compare ``header`` with the HMAC of ``body`` in constant time."""
    if header is None or not header.strip():
        return SignatureCheck.MISSING
    value = header.strip()
    if not value.startswith(_PREFIX):
        return SignatureCheck.INVALID
    expected = sign(body, secret)
    if hmac.compare_digest(expected.encode(), value.lower().encode()):
        return SignatureCheck.VALID
    return SignatureCheck.INVALID
