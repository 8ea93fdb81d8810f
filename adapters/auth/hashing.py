"""Token secrets: generated from the OS's CSPRNG, stored only as their SHA-256.

A secret has 256 bits of entropy, so a plain (unsalted, fast) hash is enough: nobody can
guess a preimage, and an exact-match lookup by hash needs no per-row salt.
"""

from __future__ import annotations

import hashlib
import secrets

SECRET_PREFIX = "dlp_"  # noqa: S105 - a public prefix that makes leaked tokens easy to spot


def new_secret() -> str:
    """A fresh bearer secret (shown once, never stored)."""
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def hash_secret(secret: str) -> str:
    """The hex SHA-256 of ``secret``: what the ``api_tokens`` table keeps."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def new_token_id() -> str:
    """A short public id for a token (used by ``token revoke``)."""
    return secrets.token_hex(8)
