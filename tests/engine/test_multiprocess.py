"""Two ``dloop-bot serve`` processes on one PostgreSQL database share the conversations."""

from __future__ import annotations

import aiohttp
import pytest

from adapters.fakes.graph_api import Behaviour, FakeGraphApi
from scripts.bench_e2e import post_text
from tests.engine.conftest import Spawn
from tests.engine.support import (
    accepted_by_id,
    covered,
    messages,
    outcomes,
    replies,
    settled,
    streams,
    wait_until,
)

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.e2e]


async def post_rounds(
    bases: list[str], phones: list[str], rounds: range, acked: dict[str, int]
) -> None:
    """Each round, one message per phone, alternating between the services."""
    async with aiohttp.ClientSession() as http:
        for r in rounds:
            for i, phone in enumerate(phones):
                status, _wamid = await post_text(http, bases[(i + r) % len(bases)], phone, "ciao")
                assert status == 200
                acked[phone] = acked.get(phone, 0) + 1


async def all_settled(url: str, phones: list[str], acked: dict[str, int]) -> bool:
    """Every acknowledged message is answered and every reply has its outcome."""
    found = await streams(url, phones)
    return all(len(messages(found[p])) == acked[p] and settled(found[p]) for p in phones)


async def assert_each_handled_once(pg_url: str, phones: list[str], graph: FakeGraphApi) -> None:
    """Meta got each reply once; every message was covered by exactly one turn, one outcome."""
    assert max(accepted_by_id(graph).values()) == 1
    found = await streams(pg_url, phones)
    for phone in phones:
        history = found[phone]
        assert sorted(covered(history)) == sorted(messages(history))
        assert len(set(covered(history))) == len(covered(history))
        assert all(n == 1 for n in outcomes(history).values())


async def test_two_processes_answer_every_turn_once_and_in_order(
    pg_url: str, spawn: Spawn, graph: FakeGraphApi
) -> None:
    """Webhooks alternate between two processes: each turn handled once, replies in order."""
    (_a, a), (_b, b) = await spawn(pg_url), await spawn(pg_url)
    phones = [f"3932{i:07d}" for i in range(30)]
    acked: dict[str, int] = {}
    await post_rounds([a, b], phones, range(3), acked)
    await wait_until(lambda: all_settled(pg_url, phones, acked), 60)
    found = await streams(pg_url, phones)
    sent = accepted_by_id(graph)
    assert max(sent.values()) == 1
    for phone in phones:
        history = found[phone]
        assert covered(history) == messages(history)  # once each, in arrival order
        assert all(n == 1 for n in outcomes(history).values())
        order = [str(b.get("biz_opaque_callback_data")) for b in graph.accepted]
        mine = [oid for oid in order if oid in set(replies(history))]
        assert mine == [oid for oid in replies(history) if oid in sent]


async def test_a_killed_process_hands_its_conversations_over_without_duplicates(
    pg_url: str, spawn: Spawn, graph: FakeGraphApi
) -> None:
    """SIGKILL one process mid-load: the other finishes everything acknowledged, no resend."""
    graph.script(*[Behaviour.sleep(0.05)] * 2000)  # sends in flight when the kill lands
    (doomed, a), (_b, b) = await spawn(pg_url), await spawn(pg_url)
    graph.webhook_url = f"{b}/webhook"  # status webhooks may reconcile interrupted sends
    phones = [f"3933{i:07d}" for i in range(40)]
    acked: dict[str, int] = {}
    await post_rounds([a, b], phones, range(2), acked)
    doomed.kill()
    await doomed.proc.wait()
    await post_rounds([b], phones, range(2, 4), acked)
    await wait_until(lambda: all_settled(pg_url, phones, acked), 60)
    await assert_each_handled_once(pg_url, phones, graph)
