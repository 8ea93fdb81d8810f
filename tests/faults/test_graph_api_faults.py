"""The Graph API misbehaves for a while, then recovers: every reply goes out exactly once.

A signed webhook goes in over HTTP; the fake Graph API answers the service's sends with
an outage (5xx, rate limits, slow answers, resets) until the test ends it; the fake's
request log and the conversation streams show what the service did about it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from adapters.fakes.graph_api import Behaviour, FakeGraphApi
from adapters.fakes.tcp_proxy import FaultyProxy
from events.conversation import OutboundFailed, OutboundSent
from events.outbox import OutboundAttempted, OutboundReconciled
from events.send_retries import OutboundRetryScheduled
from tests.engine.support import accepted_by_id, replies, requested_by_id, wait_until
from tests.faults.conftest import Wired, send_text

pytestmark = pytest.mark.e2e
Wire = Callable[..., Awaitable[Wired]]
PHONES = ["393401110001", "393401110002", "393401110003"]


async def _all_tried(wired: Wired, times: int) -> None:
    """Wait until a reply to every phone has reached the fake at least ``times`` times."""

    async def tried() -> bool:
        sent_to = [r.json.get("to") for r in wired.graph.requests if isinstance(r.json, dict)]
        tries = [sum(1 for t in sent_to if t and t.lstrip("+") == p) for p in PHONES]
        return min(tries) >= times

    await wait_until(tried, 20)


async def _ride_out(wired: Wired, outage: Behaviour) -> None:
    """Messages in during ``outage``; recover after every reply failed twice; all settle."""
    wired.graph.outage(outage)
    for phone in PHONES:
        assert (await send_text(wired.client, phone, "Buongiorno!"))[0] == 200
    await _all_tried(wired, 2)
    wired.graph.recover()
    await wait_until(lambda: wired.settled(PHONES), 20)


@pytest.mark.parametrize(
    "outage",
    [
        pytest.param(Behaviour.server_error(), id="http-500"),
        pytest.param(Behaviour.error(2), id="http-503-code-2"),
        pytest.param(Behaviour.error(130429, retry_after=1), id="429-130429-retry-after"),
        pytest.param(Behaviour.error(4), id="429-app-limit"),
    ],
)
async def test_transient_outage_is_retried_and_each_reply_is_sent_once(
    wire: Wire, outage: Behaviour
) -> None:
    """5xx and rate limits: retried with backoff, then delivered exactly once, no failure."""
    wired = await wire()
    await _ride_out(wired, outage)
    accepted = accepted_by_id(wired.graph)
    for phone in PHONES:
        history = await wired.history(phone)
        [oid] = replies(history)
        assert accepted[oid] == 1, "delivered exactly once after recovery"
        assert requested_by_id(wired.graph)[oid] >= 3, "retried during the outage"
        assert [type(e.payload) for e in history].count(OutboundSent) == 1
        assert not any(isinstance(e.payload, OutboundFailed) for e in history)
        attempts = [e.payload.attempt for e in history if isinstance(e.payload, OutboundAttempted)]
        assert attempts == sorted(attempts)
        assert attempts[0] == 1
        assert len(attempts) >= 3


async def test_rate_limit_waits_at_least_retry_after(wire: Wire) -> None:
    """A 130429 with Retry-After: 1 is not retried sooner than one second later."""
    wired = await wire()
    wired.graph.script(Behaviour.error(130429, retry_after=1))
    assert (await send_text(wired.client, PHONES[0], "Buongiorno!"))[0] == 200
    await wait_until(lambda: wired.settled(PHONES[:1]), 20)
    tries = [
        e.recorded_at
        for e in await wired.history(PHONES[0])
        if isinstance(e.payload, OutboundAttempted)
    ]
    assert len(tries) == 2
    assert (tries[1] - tries[0]).total_seconds() >= 1.0


@pytest.mark.parametrize("code", [131026, 131051, 368])
async def test_permanent_error_is_not_retried_and_reaches_review(wire: Wire, code: int) -> None:
    """Undeliverable, unsupported, blocked: one request, a failure, an escalation, a review."""
    wired = await wire()
    wired.graph.outage(Behaviour.error(code))
    assert (await send_text(wired.client, PHONES[0], "Buongiorno!"))[0] == 200
    await wait_until(lambda: wired.settled(PHONES[:1]), 20)
    history = await wired.history(PHONES[0])
    [oid] = replies(history)
    assert requested_by_id(wired.graph)[oid] == 1
    [failed] = [e.payload for e in history if isinstance(e.payload, OutboundFailed)]
    assert (failed.code, failed.retryable, failed.outcome_unknown) == (code, False, False)
    assert "conversation.escalated" in [e.type for e in history]
    await wait_until(lambda: wired.review_has("outbound_failed"), 10)


async def test_slow_answers_beyond_the_timeout_are_never_resent(wire: Wire) -> None:
    """Meta slower than our timeout: the outcome is unknown, nothing is resent, and the late
    status webhook reconciles each reply: one delivery each."""
    wired = await wire(whatsapp_timeout=0.3)
    wired.graph.outage(Behaviour.sleep(1.0))
    for phone in PHONES:
        assert (await send_text(wired.client, phone, "Buongiorno!"))[0] == 200
    await wait_until(lambda: wired.settled(PHONES), 20)
    wired.graph.recover()

    async def reconciled() -> bool:
        for phone in PHONES:
            history = await wired.history(phone)
            if not any(isinstance(e.payload, OutboundReconciled) for e in history):
                return False
        return True

    await wait_until(reconciled, 20)
    for phone in PHONES:
        history = await wired.history(phone)
        [oid] = replies(history)
        assert requested_by_id(wired.graph)[oid] == 1
        assert accepted_by_id(wired.graph)[oid] == 1
        [failed] = [e.payload for e in history if isinstance(e.payload, OutboundFailed)]
        assert failed.outcome_unknown
        assert not any(isinstance(e.payload, OutboundSent) for e in history)


async def test_reset_connections_are_never_resent_and_go_to_review(wire: Wire) -> None:
    """Connections cut mid-send: unknown outcome, on the review queue, not resent; once Meta
    is healthy, the next message is answered normally."""
    wired = await wire()
    wired.graph.outage(Behaviour.reset())
    for phone in PHONES:
        assert (await send_text(wired.client, phone, "Buongiorno!"))[0] == 200
    await wait_until(lambda: wired.settled(PHONES), 20)
    wired.graph.recover()
    first = {phone: replies(await wired.history(phone))[0] for phone in PHONES}
    await wait_until(lambda: wired.review_has("outbound_failed", len(PHONES)), 10)
    for phone in PHONES:
        assert (await send_text(wired.client, phone, "Vorrei delle crocchette"))[0] == 200

    async def answered_again() -> bool:
        counts = [len(replies(await wired.history(p))) for p in PHONES]
        return min(counts) >= 2 and await wired.settled(PHONES)

    await wait_until(answered_again, 20)
    for phone in PHONES:
        history = await wired.history(phone)
        assert requested_by_id(wired.graph)[first[phone]] == 1, "never resent"
        assert accepted_by_id(wired.graph)[first[phone]] == 0
        later = replies(history)[1:]
        assert all(accepted_by_id(wired.graph)[oid] == 1 for oid in later)


async def test_unreachable_graph_api_is_retried_then_sent_once(
    wire: Wire, fake_graph: FakeGraphApi
) -> None:
    """Connections refused (nothing can have been sent): retried with backoff, and once the
    Graph API is reachable again each reply goes out exactly once."""
    host, _, port = fake_graph.base_url.removeprefix("http://").rpartition(":")
    proxy = FaultyProxy(host, int(port))
    await proxy.start()
    try:
        wired = await wire(whatsapp_api_base=f"http://127.0.0.1:{proxy.port}")
        await proxy.go_down()
        for phone in PHONES:
            assert (await send_text(wired.client, phone, "Buongiorno!"))[0] == 200

        async def retried() -> bool:
            for phone in PHONES:
                tries = [e for e in await wired.history(phone) if e.type == OutboundAttempted.TYPE]
                if len(tries) < 2:
                    return False
            return True

        await wait_until(retried, 20)
        assert not fake_graph.accepted, "nothing reached Meta while it was unreachable"
        await proxy.come_up()
        await wait_until(lambda: wired.settled(PHONES), 20)
    finally:
        await proxy.close()
    accepted = accepted_by_id(fake_graph)
    for phone in PHONES:
        history = await wired.history(phone)
        [oid] = replies(history)
        assert accepted[oid] == 1
        assert [type(e.payload) for e in history].count(OutboundSent) == 1


async def test_an_outage_longer_than_the_retries_ends_on_the_review_queue(wire: Wire) -> None:
    """Past its four attempts, with no durable retries left (horizon 0), a reply is recorded
    failed (retryable) for a person to act on; it is not sent again by itself."""
    wired = await wire(send_retry_horizon=0.0)
    wired.graph.outage(Behaviour.server_error())
    assert (await send_text(wired.client, PHONES[0], "Buongiorno!"))[0] == 200
    await wait_until(lambda: wired.settled(PHONES[:1]), 30)
    wired.graph.recover()
    history = await wired.history(PHONES[0])
    [oid] = replies(history)
    assert requested_by_id(wired.graph)[oid] == 4
    [failed] = [e.payload for e in history if isinstance(e.payload, OutboundFailed)]
    assert failed.retryable
    assert not failed.outcome_unknown
    await wait_until(lambda: wired.review_has("outbound_failed"), 10)
    assert accepted_by_id(wired.graph)[oid] == 0


async def test_an_outage_within_the_retry_horizon_needs_nobody(wire: Wire) -> None:
    """Meta down for a few seconds under load (the schedule scaled down to match): once it
    is back, every reply goes out exactly once, and nothing lands on the review queue."""
    wired = await wire(send_retry_cap=0.3, send_retry_horizon=60.0)
    wired.graph.outage(Behaviour.server_error())
    for phone in PHONES:
        assert (await send_text(wired.client, phone, "Buongiorno!"))[0] == 200

    async def scheduled() -> bool:
        histories = [await wired.history(p) for p in PHONES]
        return all(any(e.type == OutboundRetryScheduled.TYPE for e in h) for h in histories)

    await wait_until(scheduled, 20)
    await asyncio.sleep(1.0)  # still down: a few more scheduled rounds fail
    wired.graph.recover()
    await wait_until(lambda: wired.settled(PHONES), 30)
    accepted = accepted_by_id(wired.graph)
    for phone in PHONES:
        history = await wired.history(phone)
        [oid] = replies(history)
        assert accepted[oid] == 1
        assert not [e for e in history if isinstance(e.payload, OutboundFailed)]
    assert not await wired.review_has("outbound_failed")
