"""Every route of the real router against every kind of caller.

The matrix below lists each ``(method, path)`` the application registers with what an
anonymous caller gets and, for ``/api``, the roles allowed. The first test fails when a
route is added without an entry (or an entry outlives its route). Then, per route:
anonymous, unknown, expired and revoked credentials, each role, a dealer reaching for
another dealer's rows, a cookie session without, with a wrong and with the right CSRF
token, and the security headers of the dashboard's answers.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

import pytest
from aiohttp import ClientResponse

from adapters.auth.session import CSRF_HEADER, SESSION_COOKIE, csrf_token
from adapters.auth.tokens import STAFF, Role
from adapters.web.app import create_app
from adapters.web.dashboard.headers import SECURITY_HEADERS
from tests.api.conftest import CUSTOMER, DEALER_A, Api, cid
from tests.security.conftest import DASHBOARD_TOKEN, Keys

pytestmark = pytest.mark.e2e
ANY_ROLE = frozenset(Role)


@dataclass(frozen=True, slots=True, kw_only=True)
class Entry:
    """What a route allows: the anonymous answer, and the roles of an ``/api`` route."""

    sample: str  # a concrete path to call
    anonymous: int  # status without credentials (401 for everything protected)
    roles: Collection[Role] | None = None  # /api routes: who may call it
    foreign: bool = False  # /api: reads dealer A's rows, so dealer B must be refused
    body: Any = None  # JSON body for writes
    dashboard: bool = False  # answers carry the dashboard's security headers
    cookie_csrf: bool = False  # a cookie-authenticated write: CSRF required


A_CONV = cid(DEALER_A)
CUSTOMER_CONV = cid(CUSTOMER)

MATRIX: dict[tuple[str, str], Entry] = {
    ("GET", "/healthz"): Entry(sample="/healthz", anonymous=200),
    ("GET", "/readyz"): Entry(sample="/readyz", anonymous=200),
    ("GET", "/metrics"): Entry(sample="/metrics", anonymous=200),
    ("GET", "/webhook"): Entry(sample="/webhook?hub.mode=subscribe", anonymous=403),
    ("POST", "/webhook"): Entry(sample="/webhook", anonymous=401, body={"object": "x"}),
    ("POST", "/simulate"): Entry(sample="/simulate", anonymous=401, body={"from": "+39"}),
    ("GET", "/api/conversations"): Entry(
        sample="/api/conversations", anonymous=401, roles=ANY_ROLE
    ),
    ("GET", "/api/conversations/{id}"): Entry(
        sample=f"/api/conversations/{A_CONV}", anonymous=401, roles=ANY_ROLE, foreign=True
    ),
    ("GET", "/api/conversations/{id}/messages"): Entry(
        sample=f"/api/conversations/{A_CONV}/messages", anonymous=401, roles=ANY_ROLE, foreign=True
    ),
    ("GET", "/api/conversations/{id}/timeline"): Entry(
        sample=f"/api/conversations/{A_CONV}/timeline", anonymous=401, roles=ANY_ROLE, foreign=True
    ),
    **{
        ("POST", f"/api/conversations/{{id}}/{action}"): Entry(
            sample=f"/api/conversations/{CUSTOMER_CONV}/{action}",
            anonymous=401,
            roles=STAFF,
            body={"text": "Buongiorno da Dloop"} if action == "reply" else {},
            cookie_csrf=True,
        )
        for action in ("take-over", "release", "resolve", "reply")
    },
    ("GET", "/api/review"): Entry(sample="/api/review", anonymous=401, roles=STAFF),
    ("POST", "/api/review/{id}/dismiss"): Entry(
        sample="/api/review/no-such-item/dismiss", anonymous=401, roles=STAFF, cookie_csrf=True
    ),
    ("POST", "/api/review/{id}/retry"): Entry(
        sample="/api/review/no-such-item/retry", anonymous=401, roles=STAFF, cookie_csrf=True
    ),
    ("GET", "/api/devices"): Entry(sample="/api/devices", anonymous=401, roles=STAFF),
    ("POST", "/api/devices"): Entry(
        sample="/api/devices",
        anonymous=401,
        roles=STAFF,
        body={"owner_kind": "support", "owner_id": "marta", "token": "matrix-device-token"},
        cookie_csrf=True,
    ),
    ("DELETE", "/api/devices/{token}"): Entry(
        sample="/api/devices/no-such-token", anonymous=401, roles=STAFF, cookie_csrf=True
    ),
    # No MARKET_WEBHOOK_SECRET in this service: the market webhook fails closed.
    ("POST", "/market/webhook"): Entry(sample="/market/webhook", anonymous=503, body={}),
    ("GET", "/api/counters"): Entry(sample="/api/counters", anonymous=401, roles=STAFF),
    ("GET", "/api/dealers"): Entry(sample="/api/dealers", anonymous=401, roles=ANY_ROLE),
    ("GET", "/api/catalog"): Entry(sample="/api/catalog", anonymous=401, roles=ANY_ROLE),
    ("GET", "/api/orders"): Entry(sample="/api/orders", anonymous=401, roles=ANY_ROLE),
    ("GET", "/api/carts"): Entry(sample="/api/carts", anonymous=401, roles=ANY_ROLE),
    ("GET", "/api/triage"): Entry(sample="/api/triage", anonymous=401, roles=ANY_ROLE),
    ("GET", "/api/overview"): Entry(sample="/api/overview", anonymous=401, roles=STAFF),
    ("GET", "/api/stream"): Entry(sample="/api/stream", anonymous=401, roles=ANY_ROLE),
    ("GET", "/api/openapi.json"): Entry(sample="/api/openapi.json", anonymous=401, roles=ANY_ROLE),
    ("GET", "/"): Entry(sample="/", anonymous=303, dashboard=True),
    ("GET", "/static/{name}"): Entry(sample="/static/app.js", anonymous=200, dashboard=True),
    ("GET", "/login"): Entry(sample="/login", anonymous=200, dashboard=True),
    ("POST", "/login"): Entry(sample="/login", anonymous=422, dashboard=True),
    ("POST", "/logout"): Entry(sample="/logout", anonymous=303, dashboard=True, cookie_csrf=True),
}


def _template(route: Any) -> str:
    info = route.resource.get_info() if route.resource is not None else {}
    return str(info.get("path") or info.get("formatter"))


async def test_every_route_has_a_matrix_entry(api: Api) -> None:
    """The router's routes (HEAD twins of GETs aside) are exactly the matrix's keys."""
    app = create_app(api.deps)
    routes = {
        (r.method, _template(r)) for r in app.router.routes() if r.method not in {"HEAD", "*"}
    }
    assert routes == set(MATRIX), (
        f"missing from the matrix: {sorted(routes - set(MATRIX))}; "
        f"stale entries: {sorted(set(MATRIX) - routes)}"
    )


class Caller:
    """Sends one route's sample request with each kind of credential; records mismatches."""

    def __init__(self, api: Api, keys: Keys, method: str, entry: Entry) -> None:
        self.api, self.keys, self.method, self.entry = api, keys, method, entry
        self.problems: list[str] = []
        self.cases = 0

    async def call(self, headers: dict[str, str] | None = None) -> ClientResponse:
        """The sample request with ``headers``, redirects not followed."""
        kw: dict[str, Any] = {"headers": headers or {}, "allow_redirects": False}
        if self.method == "POST":
            kw["json"] = self.entry.body if self.entry.body is not None else {}
        return await self.api.client.request(self.method, self.entry.sample, **kw)

    async def expect(self, case: str, headers: dict[str, str], ok: Collection[int]) -> None:
        """Call with ``headers``; note a problem unless the status is in ``ok``."""
        self.cases += 1
        resp = await self.call(headers)
        body = await _text(resp)
        if resp.status not in ok:
            self.problems.append(f"{case}: {resp.status} not in {sorted(ok)}: {body[:120]}")
        if "Traceback" in body:
            self.problems.append(f"{case}: a traceback in the answer")
        if self.entry.dashboard:
            missing = {k for k, v in SECURITY_HEADERS.items() if resp.headers.get(k) != v}
            if missing:
                self.problems.append(f"{case}: security headers missing: {sorted(missing)}")

    def bearer(self, secret: str) -> dict[str, str]:
        """An Authorization header."""
        return {"Authorization": f"Bearer {secret}"}


async def _text(resp: ClientResponse) -> str:
    """The body, except for a live event stream (never ends; tests/api/test_stream.py)."""
    if resp.content_type == "text/event-stream":
        resp.close()
        return ""
    return await resp.text()


ALLOWED = frozenset({200, 201, 202, 204, 404, 409, 422})  # let in (then maybe refused on merits)


async def _api_cases(c: Caller) -> None:
    assert c.entry.roles is not None
    await c.expect("anonymous", {}, {401})
    await c.expect("other scheme", {"Authorization": "Basic YWxhZGRpbg=="}, {401})
    await c.expect("unknown token", c.bearer("dlp_never_issued"), {401})
    await c.expect("expired token", c.bearer(c.keys.expired), {401})
    await c.expect("revoked token", c.bearer(c.keys.revoked), {401})
    for who, role in (("admin", Role.ADMIN), ("support", Role.SUPPORT), ("dealer_b", Role.DEALER)):
        if role not in c.entry.roles:
            await c.expect(f"{who} (wrong role)", c.bearer(c.api.secrets[who]), {403})
        elif role is Role.DEALER and c.entry.foreign:
            await c.expect("dealer B on dealer A's rows", c.bearer(c.api.secrets[who]), {403, 404})
        else:
            await c.expect(who, c.bearer(c.api.secrets[who]), ALLOWED)
    if c.entry.roles == ANY_ROLE and not c.entry.foreign:
        await _no_foreign_rows(c)
    await _cookie_cases(c)


async def _no_foreign_rows(c: Caller) -> None:
    """Dealer B's answer never names dealer A's conversation or phone."""
    c.cases += 1
    resp = await c.call(c.bearer(c.api.secrets["dealer_b"]))
    text = await _text(resp)
    if A_CONV in text or DEALER_A.lstrip("+") in text:
        c.problems.append("dealer B saw dealer A's rows")


async def _cookie_cases(c: Caller) -> None:
    session = c.keys.session
    cookie = {"Cookie": f"{SESSION_COOKIE}={session.secret}"}
    if not c.entry.cookie_csrf:
        await c.expect("cookie session read", cookie, ALLOWED | {200})
        return
    await c.expect("cookie without CSRF", cookie, {403})
    await c.expect("cookie with a wrong CSRF", {**cookie, CSRF_HEADER: "0" * 64}, {403})
    other = csrf_token("another-session-secret")
    await c.expect("cookie with another session's CSRF", {**cookie, CSRF_HEADER: other}, {403})
    ok = ALLOWED | ({303} if c.entry.dashboard else set())
    await c.expect("cookie with its CSRF", {**cookie, CSRF_HEADER: session.csrf}, ok)


async def _other_cases(c: Caller, method: str, path: str) -> None:
    await c.expect("anonymous", {}, {c.entry.anonymous})
    if (method, path) == ("POST", "/simulate"):
        await c.expect("wrong bearer", c.bearer("nope"), {401})
        # Staff API tokens are let in (then the empty body is refused); a dealer's is not.
        await c.expect("an API admin token", c.bearer(c.api.secrets["admin"]), {422})
        await c.expect("a dealer's API token", c.bearer(c.api.secrets["dealer_b"]), {403})
        await c.expect("dashboard token", c.bearer(DASHBOARD_TOKEN), {422})
    if (method, path) == ("POST", "/webhook"):
        await c.expect("wrong signature", {"X-Hub-Signature-256": "sha256=" + "0" * 64}, {403})
        await c.expect("an API token is no signature", c.bearer(c.api.secrets["admin"]), {401})
    if (method, path) == ("GET", "/"):
        cookie = {"Cookie": f"{SESSION_COOKIE}={c.keys.session.secret}"}
        await c.expect("live session", cookie, {200})
        await c.expect(
            "revoked token as a cookie", {"Cookie": f"{SESSION_COOKIE}={c.keys.revoked}"}, {303}
        )
    if (method, path) == ("POST", "/login"):
        await c.expect("cross-origin form", {"Origin": "https://evil.example"}, {403})
    if (method, path) == ("POST", "/logout"):
        await _cookie_cases(c)


@pytest.mark.parametrize(("method", "path"), sorted(MATRIX))
async def test_route_refuses_whoever_it_should(
    talked: Api, keys: Keys, method: str, path: str
) -> None:
    """Each credential case gets its expected status (see the module docstring)."""
    entry = MATRIX[(method, path)]
    caller = Caller(talked, keys, method, entry)
    if entry.roles is not None:
        await _api_cases(caller)
    else:
        await _other_cases(caller, method, path)
    assert not caller.problems, "\n".join(caller.problems)
