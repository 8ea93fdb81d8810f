"""Two ``dloop-bot serve`` workers split the partitions; a SIGKILLed one's are taken over."""

from __future__ import annotations

import asyncpg
import pytest

from adapters.engine.partitions import namespace
from adapters.fakes.graph_api import FakeGraphApi
from tests.engine.conftest import Spawn
from tests.engine.support import wait_until
from tests.engine.test_multiprocess import all_settled, assert_each_handled_once, post_rounds

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.e2e]

_HELD = """
SELECT pid, count(*) FROM pg_locks
 WHERE locktype = 'advisory' AND granted AND objsubid = 2 AND classid = $1::int::oid
   AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
 GROUP BY pid"""


async def held(url: str) -> dict[int, int]:
    """Partitions held per database session (one session per worker)."""
    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://", 1))
    try:
        ns = namespace(f"{url.rsplit('/', 1)[1]}.public", "partitions")
        return {int(row[0]): int(row[1]) for row in await conn.fetch(_HELD, ns)}
    finally:
        await conn.close()


async def test_a_killed_workers_partitions_are_taken_over_and_every_message_handled_once(
    pg_url: str, spawn: Spawn, graph: FakeGraphApi
) -> None:
    """8 and 8 while both live; SIGKILL one: the other holds 16 within seconds; no resend."""
    (doomed, a), (_b, b) = await spawn(pg_url), await spawn(pg_url)

    async def split() -> bool:
        return sorted((await held(pg_url)).values()) == [8, 8]

    await wait_until(split, 15)
    graph.webhook_url = f"{b}/webhook"
    phones = [f"3934{i:07d}" for i in range(40)]
    acked: dict[str, int] = {}
    await post_rounds([a, b], phones, range(2), acked)
    doomed.kill()
    await doomed.proc.wait()

    async def one_holds_all() -> bool:
        return list((await held(pg_url)).values()) == [16]

    await wait_until(one_holds_all, 10)  # the rebalance interval is 1 s
    await post_rounds([b], phones, range(2, 4), acked)
    await wait_until(lambda: all_settled(pg_url, phones, acked), 60)
    await assert_each_handled_once(pg_url, phones, graph)
