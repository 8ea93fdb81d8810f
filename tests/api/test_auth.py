"""Bearer tokens and roles: 401 for every bad token, 403 for the wrong role or dealer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from adapters.auth.hashing import hash_secret
from adapters.auth.tokens import Role, TokenError, TokenStore
from adapters.readmodel.tables import api_tokens
from tests.api.conftest import CUSTOMER, DEALER_A, DEALER_B, Api, cid

pytestmark = pytest.mark.e2e


async def test_missing_token_is_401_with_a_bearer_challenge(api: Api) -> None:
    """No Authorization header: 401 and WWW-Authenticate: Bearer."""
    resp = await api.get("/api/conversations", who=None)
    assert resp.status == 401
    assert resp.headers["WWW-Authenticate"].startswith("Bearer")
    assert (await resp.json())["status"] == 401


async def test_unknown_token_is_401(api: Api) -> None:
    """A secret that was never issued is refused."""
    resp = await api.get("/api/conversations", headers={"Authorization": "Bearer dlp_nope"})
    assert resp.status == 401
    assert (await resp.json())["error"] == "unknown token"


async def test_other_schemes_are_401(api: Api) -> None:
    """Only the Bearer scheme is accepted."""
    resp = await api.client.get("/api/dealers", headers={"Authorization": "Basic YWxhZGRpbg=="})
    assert resp.status == 401


async def test_expired_token_is_401(api: Api) -> None:
    """A token past its expiry is refused."""
    past = TokenStore(api.deps.engines, clock=lambda: datetime.now(UTC) - timedelta(days=2))
    _, secret = await past.create(Role.ADMIN, label="old", expires_in=timedelta(days=1))
    resp = await api.client.get("/api/dealers", headers={"Authorization": f"Bearer {secret}"})
    assert resp.status == 401
    assert (await resp.json())["error"] == "token expired"


async def test_revoked_token_is_401(api: Api) -> None:
    """A revoked token stops working at once."""
    tokens = TokenStore(api.deps.engines)
    record, secret = await tokens.create(Role.SUPPORT, label="leaver")
    headers = {"Authorization": f"Bearer {secret}"}
    assert (await api.client.get("/api/dealers", headers=headers)).status == 200
    await tokens.revoke(record.id)
    resp = await api.client.get("/api/dealers", headers=headers)
    assert resp.status == 401
    assert (await resp.json())["error"] == "token revoked"


async def test_unknown_api_route_needs_a_token_then_is_404(api: Api) -> None:
    """Unknown /api paths reveal nothing without a token, and are JSON 404s with one."""
    assert (await api.get("/api/nothing-here", who=None)).status == 401
    resp = await api.get("/api/nothing-here")
    assert resp.status == 404
    assert (await resp.json())["status"] == 404


async def test_dealer_token_cannot_use_staff_routes(api: Api) -> None:
    """Dealers may not read the review queue or counters."""
    for path in ("/api/review", "/api/counters"):
        resp = await api.get(path, who="dealer_a")
        assert resp.status == 403, path
        assert "dealer role" in (await resp.json())["error"]


async def test_dealer_token_cannot_act_on_conversations(talked: Api) -> None:
    """Taking over is for staff only, even on the dealer's own conversation."""
    resp = await talked.post(f"/api/conversations/{cid(DEALER_A)}/take-over", who="dealer_a")
    assert resp.status == 403


async def test_dealer_sees_only_its_own_conversation_in_the_list(talked: Api) -> None:
    """The list of a dealer holds its dealer conversation and nothing else."""
    page = await talked.json("/api/conversations", who="dealer_a")
    assert [c["id"] for c in page["items"]] == [cid(DEALER_A)]
    assert page["items"][0]["conversation_type"] == "dealer"


async def test_dealer_reading_another_dealers_conversation_is_403(talked: Api) -> None:
    """Dealer A cannot read dealer B's conversation, its messages or its timeline."""
    for suffix in ("", "/messages", "/timeline"):
        resp = await talked.get(f"/api/conversations/{cid(DEALER_B)}{suffix}", who="dealer_a")
        assert resp.status == 403, suffix


async def test_dealer_reading_a_customer_conversation_is_403(talked: Api) -> None:
    """Customers' conversations are not a dealer's to read."""
    resp = await talked.get(f"/api/conversations/{cid(CUSTOMER)}", who="dealer_a")
    assert resp.status == 403


async def test_dealer_reads_its_own_conversation(talked: Api) -> None:
    """Dealer B reads its own conversation and its timeline."""
    row = await talked.json(f"/api/conversations/{cid(DEALER_B)}", who="dealer_b")
    assert row["phone"] == DEALER_B
    timeline = await talked.json(f"/api/conversations/{cid(DEALER_B)}/timeline", who="dealer_b")
    assert timeline["events"][0]["type"] == "whatsapp.message_received"


async def test_dealer_search_cannot_reach_other_rows(talked: Api) -> None:
    """A text search for another dealer's phone finds nothing for a dealer token."""
    page = await talked.json(f"/api/conversations?q={DEALER_B[1:]}", who="dealer_a")
    assert page["items"] == []


async def test_token_store_refuses_a_dealer_token_without_a_dealer(api: Api) -> None:
    """The dealer role needs a dealer id, the others must not have one."""
    tokens = TokenStore(api.deps.engines)
    with pytest.raises(TokenError):
        await tokens.create(Role.DEALER)
    with pytest.raises(TokenError):
        await tokens.create(Role.ADMIN, dealer_id="d-a")


async def test_tokens_are_stored_hashed(api: Api) -> None:
    """The table holds the SHA-256 of the secret, never the secret."""
    async with api.deps.engines.reader.connect() as conn:
        stored = set((await conn.execute(select(api_tokens.c.token_hash))).scalars())
    secret = api.secrets["admin"]
    assert secret not in stored
    assert hash_secret(secret) in stored
