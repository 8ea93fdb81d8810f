"""The append transaction's connection: kept by the group committer, replaced when it dies.

PostgreSQL only where the connection is the subject (SQLite has one writer connection
that the committer never keeps: read-side transactions share it).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import event

from adapters.fakes.tcp_proxy import FaultyProxy
from adapters.store.append_sql import driver_connection, pg_append, pg_dirty, pg_plan
from adapters.store.encoding import fill_positions
from adapters.store.engine import Engines, create_engines
from adapters.store.event_store import EventStore
from adapters.store.group_commit import GroupCommitter
from adapters.store.migrations import migrate
from adapters.store.types import AppendRequest, Expect, StreamVersionConflictError
from events.base import NewEvent
from tests.conftest import PG_URL, drop_pg_schema, make_pg_engines
from tests.support.sample_events import Noted

pytestmark = pytest.mark.integration


def _new(text_: str = "x") -> NewEvent:
    return NewEvent(event_id=uuid.uuid4(), payload=Noted(text=text_))


@pytest.fixture
async def proxied() -> AsyncIterator[tuple[FaultyProxy, Engines]]:
    """Migrated engines on a fresh schema, reached through a proxy that can cut connections."""
    direct, schema = await make_pg_engines()
    await direct.dispose()
    host_port = PG_URL.split("@", 1)[1].split("/", 1)[0]
    host, _, port = host_port.rpartition(":")
    proxy = FaultyProxy(host, int(port))
    await proxy.start()
    url = PG_URL.replace(f"@{host_port}/", f"@127.0.0.1:{proxy.port}/")
    engines = create_engines(url, pg_schema=schema)
    await migrate(engines)
    try:
        yield proxy, engines
    finally:
        await engines.dispose()
        await proxy.close()
        await drop_pg_schema(schema)


@pytest.mark.postgres
async def test_group_commit_checks_out_one_connection_for_all_its_batches(
    proxied: tuple[FaultyProxy, Engines],
) -> None:
    """Successive batches reuse the committer's connection: no pool checkout (and ping) each."""
    _, engines = proxied
    committer = GroupCommitter(EventStore(engines))
    await committer.start()
    await committer.append([AppendRequest("s-1", Expect.ANY, [_new("first")])])
    checkouts: list[Any] = []
    checkins: list[Any] = []
    event.listen(engines.writer.sync_engine.pool, "checkout", lambda *a: checkouts.append(a))
    event.listen(engines.writer.sync_engine.pool, "checkin", lambda *a: checkins.append(a))
    for n in range(10):
        await committer.append([AppendRequest("s-1", Expect.ANY, [_new(str(n))])])
    assert (checkouts, checkins) == ([], [])
    await committer.close()
    assert len(checkins) == 1  # given back to the pool when the committer stops


@pytest.mark.postgres
async def test_group_commit_appends_after_its_kept_connection_was_cut(
    proxied: tuple[FaultyProxy, Engines],
) -> None:
    """A connection that died while idle costs no failed append: the commit takes a new one."""
    proxy, engines = proxied
    store = EventStore(engines)
    committer = GroupCommitter(store)
    await committer.start()
    try:
        await committer.append([AppendRequest("s-1", Expect.NO_STREAM, [_new("before")])])
        await proxy.go_down()  # cuts every open connection, the kept one included
        await proxy.come_up()
        [result] = await committer.append([AppendRequest("s-1", 1, [_new("after")])])
    finally:
        await committer.close()
    assert result.version == 2
    assert [e.payload.text for e in await store.read_stream("s-1")] == ["before", "after"]


async def test_positions_follow_versions_inside_one_batch(store: EventStore) -> None:
    """Positions drawn in the insert itself still rise with each stream's versions."""
    units = [
        [AppendRequest("long", Expect.ANY, [_new(f"a{n}") for n in range(40)])],
        [AppendRequest("other", Expect.ANY, [_new("b")])],
        [AppendRequest("long", Expect.ANY, [_new(f"c{n}") for n in range(5)])],
    ]
    outcomes = await store.commit_units(units)
    assert not [o for o in outcomes if isinstance(o, BaseException)]
    stored = await store.read_all(0, 100)
    long = [(e.version, e.position) for e in stored if e.stream == "long"]
    assert [v for v, _ in long] == list(range(1, 46))
    assert [p for _, p in long] == sorted(p for _, p in long)
    assert [e.position for e in stored] == list(range(stored[0].position, stored[0].position + 46))
    results = [o[0] for o in outcomes if not isinstance(o, BaseException)]
    reported = [a.position for r in results for a in r.appended]
    assert reported == [e.position for e in stored]


async def test_a_plan_gone_stale_is_redone_under_the_lock(store: EventStore) -> None:
    """Another writer between the lookup and the insert: exact conflicts and duplicates."""
    if store.dialect != "postgresql":
        pytest.skip("PostgreSQL's append path: SQLite plans inside BEGIN IMMEDIATE")
    await store.append("s", Expect.NO_STREAM, [_new("first")])
    late = _new("late")
    units = [
        store.encode_unit([AppendRequest("s", 1, [_new("stale")])]),
        store.encode_unit([AppendRequest("u", Expect.ANY, [_new("fine")])]),
        store.encode_unit([AppendRequest("w", Expect.ANY, [late])]),
    ]
    async with store.engines.writer.connect() as conn:
        driver = await driver_connection(conn)
        planned = await pg_plan(driver, units)
        await store.append("s", 1, [_new("other")])  # another writer, meanwhile
        await store.append("w", Expect.ANY, [late])
        outcomes, positions = await pg_append(
            driver, units, planned, datetime.now(UTC), await store.partition_count()
        )
        assert not pg_dirty(driver)
    conflict, second, third = fill_positions(outcomes, positions)
    assert isinstance(conflict, StreamVersionConflictError)
    assert not isinstance(second, BaseException)
    assert not isinstance(third, BaseException)
    [fine], [dupe] = second, third
    assert (fine.version, [a.position for a in fine.appended]) == (1, list(positions))
    assert (dupe.duplicates, dupe.appended) == ((late.event_id,), ())
    assert [e.payload.text for e in await store.read_stream("s")] == ["first", "other"]
