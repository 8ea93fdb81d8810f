"""One contract for every MarketOrders: the local table (SQLite, PostgreSQL) and the HTTP API.

The HTTP adapter talks to the fake market API on 127.0.0.1 over real HTTP. Each case
also says how to see what the market holds and gives the same port during an outage.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import select

from adapters.fakes.market_api import FakeMarketApi
from adapters.market.http import HttpMarketOrders
from adapters.market.local import LocalMarketOrders
from adapters.market.tables import market_orders
from adapters.store.engine import Engines, create_engines
from adapters.store.migrations import migrate
from core.market import MarketOrderRequest
from core.ports import MarketOrders, PermanentError, TransientError
from events.conversation import PricedLine
from tests.conftest import drop_pg_schema, make_pg_engines

LINE = PricedLine(
    product_id="p-lettiera",
    dealer_id="d-pet",
    name="Lettiera agglomerante 10 L",
    quantity=2,
    unit_price=Decimal("9.90"),
    line_total=Decimal("19.80"),
)
ORDER = MarketOrderRequest(
    relay_id="r-1",
    customer="+393281234567",
    dealer_id="d-pet",
    lines=(LINE,),
    total=Decimal("19.80"),
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Stored:
    """An order as the market holds it, in the terms both markets share."""

    customer: str
    dealer_id: str
    total: Decimal
    products: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Case:
    """A market, what it holds by market id, and the same market while it is down."""

    market: MarketOrders
    holdings: Callable[[], Awaitable[dict[str, Stored]]]
    down: Callable[[], MarketOrders]


def _stored(customer: str, dealer_id: str, total: object, lines: list[dict[str, str]]) -> Stored:
    products = tuple(str(line["product_id"]) for line in lines)
    return Stored(
        customer=customer, dealer_id=dealer_id, total=Decimal(str(total)), products=products
    )


async def _local_case(engines: Engines, unreachable: str) -> Case:
    await migrate(engines)

    async def holdings() -> dict[str, Stored]:
        async with engines.reader.connect() as conn:
            rows = (await conn.execute(select(market_orders))).mappings().all()
        return {
            r["id"]: _stored(r["customer"], r["dealer_id"], r["total"], r["lines"]) for r in rows
        }

    return Case(
        market=LocalMarketOrders(engines),
        holdings=holdings,
        down=lambda: LocalMarketOrders(create_engines(unreachable)),
    )


def _http_case(fake: FakeMarketApi, session: aiohttp.ClientSession) -> Case:
    async def holdings() -> dict[str, Stored]:
        return {
            o["id"]: _stored(o["customer_phone"], o["dealer_id"], o["total"], o["lines"])
            for o in fake.orders.values()
        }

    def down() -> MarketOrders:
        fake.down = True
        return HttpMarketOrders(session, fake.base_url, timeout=2.0)

    return Case(
        market=HttpMarketOrders(session, fake.base_url, timeout=2.0), holdings=holdings, down=down
    )


@pytest.fixture(
    params=["local-sqlite", pytest.param("local-postgres", marks=pytest.mark.postgres), "http"]
)
async def case(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Case]:
    """Each market implementation with its observation point and its outage."""
    if request.param == "local-sqlite":
        engines = create_engines(f"sqlite+aiosqlite:///{tmp_path}/market.db")
        yield await _local_case(engines, f"sqlite+aiosqlite:///{tmp_path}/missing/dir/market.db")
        await engines.dispose()
    elif request.param == "local-postgres":
        engines, schema = await make_pg_engines()
        try:  # port 1 on the loopback: nothing listens, the connection is refused at once
            yield await _local_case(engines, "postgresql+asyncpg://postgres@127.0.0.1:1/none")
        finally:
            await engines.dispose()
            await drop_pg_schema(schema)
    else:
        fake = FakeMarketApi()
        await fake.start()
        async with aiohttp.ClientSession() as session:
            yield _http_case(fake, session)
        await fake.close()


async def test_an_order_is_created_with_its_customer_dealer_lines_and_total(case: Case) -> None:
    """The market holds the order under the id it returned, with what was asked for."""
    market_id = await case.market.create(ORDER)
    assert market_id
    assert (await case.holdings())[market_id] == Stored(
        customer=ORDER.customer, dealer_id="d-pet", total=Decimal("19.80"), products=("p-lettiera",)
    )


async def test_the_same_relay_gets_the_same_order(case: Case) -> None:
    """Creating a relay's order again (a retry) returns the first id and makes no second order."""
    first = await case.market.create(ORDER)
    assert await case.market.create(ORDER) == first
    assert list(await case.holdings()) == [first]


async def test_concurrent_retries_of_one_relay_make_one_order(case: Case) -> None:
    """Retries racing each other still make a single order."""
    ids = await asyncio.gather(*(case.market.create(ORDER) for _ in range(5)))
    assert len(set(ids)) == 1
    assert list(await case.holdings()) == [ids[0]]


async def test_different_relays_get_different_orders(case: Case) -> None:
    """Two relays are two orders."""
    first = await case.market.create(ORDER)
    second = await case.market.create(dataclasses.replace(ORDER, relay_id="r-2"))
    assert first != second
    assert set(await case.holdings()) == {first, second}


async def test_a_market_that_is_down_is_a_transient_error(case: Case) -> None:
    """An outage is worth retrying: TransientError, and nothing is created."""
    with pytest.raises(TransientError):
        await case.down().create(ORDER)
    assert await case.holdings() == {}


async def test_an_order_without_lines_is_refused_for_good(case: Case) -> None:
    """Nothing to deliver is a PermanentError (not worth retrying), and nothing is created."""
    with pytest.raises(PermanentError, match="lines"):
        await case.market.create(dataclasses.replace(ORDER, lines=()))
    assert await case.holdings() == {}
