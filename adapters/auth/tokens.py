"""API tokens: create, authenticate, list and revoke, stored hashed in ``api_tokens``.

Roles: ``admin`` and ``support`` see everything; ``dealer`` is bound to one dealer id and
sees only that dealer's conversations and orders (enforced in the read queries). The
secret is returned once by :meth:`TokenStore.create` and never stored.

Errors: :class:`AuthError` (the web layer answers 401) names why a secret was refused;
:class:`TokenError` is a bad request to create or revoke a token.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import select, update

from adapters.auth.hashing import hash_secret, new_secret, new_token_id
from adapters.readmodel.tables import api_tokens
from adapters.store.engine import Engines


class Role(StrEnum):
    """What a token may do."""

    ADMIN = "admin"
    SUPPORT = "support"
    DEALER = "dealer"


STAFF = frozenset({Role.ADMIN, Role.SUPPORT})
ANYONE = frozenset(Role)


class AuthError(Exception):
    """A bearer secret was missing, unknown, expired or revoked (HTTP 401)."""


class TokenError(ValueError):
    """A token cannot be created or revoked as asked."""


@dataclass(frozen=True, slots=True, kw_only=True)
class TokenRecord:
    """A stored token, without its secret."""

    id: str
    role: Role
    dealer_id: str | None
    label: str | None
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None

    @property
    def agent(self) -> str:
        """The name recorded on agent actions: the label, else the token id."""
        return self.label or f"token:{self.id}"

    def state(self, now: datetime) -> str:
        """``active``, ``expired`` or ``revoked`` at ``now``."""
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= now:
            return "expired"
        return "active"


class TokenStore:
    """Tokens in the ``api_tokens`` table (see the module docstring)."""

    def __init__(
        self, engines: Engines, *, clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    ) -> None:
        self.engines = engines
        self._clock = clock

    async def create(
        self,
        role: Role,
        *,
        dealer_id: str | None = None,
        label: str | None = None,
        expires_in: timedelta | None = None,
    ) -> tuple[TokenRecord, str]:
        """Store a new token; returns it with its secret (the only time it is known)."""
        if (role is Role.DEALER) != (dealer_id is not None):
            raise TokenError("a dealer token needs --dealer; other roles must not have one")
        if expires_in is not None and expires_in <= timedelta(0):
            raise TokenError("the expiry must be in the future")
        now = self._clock()
        record = TokenRecord(
            id=new_token_id(),
            role=role,
            dealer_id=dealer_id,
            label=(label or "").strip() or None,
            created_at=now,
            expires_at=now + expires_in if expires_in is not None else None,
            revoked_at=None,
        )
        secret = new_secret()
        async with self.engines.writer.begin() as conn:
            await conn.execute(
                api_tokens.insert().values(token_hash=hash_secret(secret), **_row(record))
            )
        return record, secret

    async def authenticate(self, secret: str) -> TokenRecord:
        """The active token for ``secret``; raises :class:`AuthError` saying why not."""
        stmt = select(api_tokens).where(api_tokens.c.token_hash == hash_secret(secret))
        async with self.engines.reader.connect() as conn:
            row = (await conn.execute(stmt)).mappings().first()
        if row is None:
            raise AuthError("unknown token")
        record = _record(row)
        state = record.state(self._clock())
        if state != "active":
            raise AuthError(f"token {state}")
        return record

    async def list(self) -> list[TokenRecord]:
        """Every token, oldest first."""
        stmt = select(api_tokens).order_by(api_tokens.c.created_at, api_tokens.c.id)
        async with self.engines.reader.connect() as conn:
            return [_record(r) for r in (await conn.execute(stmt)).mappings()]

    async def revoke(self, token_id: str) -> TokenRecord:
        """Revoke ``token_id`` now (revoking twice keeps the first time)."""
        now = self._clock()
        async with self.engines.writer.begin() as conn:
            await conn.execute(
                update(api_tokens)
                .where(api_tokens.c.id == token_id, api_tokens.c.revoked_at.is_(None))
                .values(revoked_at=now)
            )
            stmt = select(api_tokens).where(api_tokens.c.id == token_id)
            row = (await conn.execute(stmt)).mappings().first()
        if row is None:
            raise TokenError(f"no token with id {token_id!r}")
        return _record(row)


def _row(record: TokenRecord) -> dict[str, Any]:
    return {
        "id": record.id,
        "role": record.role.value,
        "dealer_id": record.dealer_id,
        "label": record.label,
        "created_at": record.created_at,
        "expires_at": record.expires_at,
        "revoked_at": record.revoked_at,
    }


def _record(row: Mapping[Any, Any]) -> TokenRecord:
    return TokenRecord(
        id=row["id"],
        role=Role(row["role"]),
        dealer_id=row["dealer_id"],
        label=row["label"],
        created_at=row["created_at"],
        expires_at=row["expires_at"],
        revoked_at=row["revoked_at"],
    )
