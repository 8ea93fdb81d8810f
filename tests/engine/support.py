"""Helpers for reading what the services did: streams, fake Graph API counts, waits."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Awaitable, Callable

from adapters.fakes.graph_api import FakeGraphApi
from adapters.ops.targets import phone_stream
from adapters.store.engine import create_engines
from adapters.store.event_store import EventStore
from events.base import RecordedEvent
from events.conversation import OutboundFailed, OutboundSent, ReplyQueued
from events.engine import TurnProcessed
from events.outbox import OutboundReconciled
from events.whatsapp import MessageReceived

OUTCOMES = (OutboundSent, OutboundFailed, OutboundReconciled)


async def wait_until(check: Callable[[], Awaitable[bool]], timeout: float) -> None:  # noqa: ASYNC109 - a bounded wait, not a speed check
    """Poll ``check`` until it holds; fail with a clear message after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not reached within {timeout} s")
        await asyncio.sleep(0.2)


async def streams(url: str, phones: list[str]) -> dict[str, list[RecordedEvent]]:
    """Each phone's conversation stream (phones as digits)."""
    engines = create_engines(url)
    try:
        store = EventStore(engines)
        return {p: await store.read_stream(await phone_stream(store, p)) for p in phones}
    finally:
        await engines.dispose()


def messages(history: list[RecordedEvent]) -> list[str]:
    """Event ids of the inbound messages, in stream order."""
    return [str(e.event_id) for e in history if isinstance(e.payload, MessageReceived)]


def covered(history: list[RecordedEvent]) -> list[str]:
    """Fact ids covered by turns, in the order the turns were decided."""
    return [f for e in history if isinstance(e.payload, TurnProcessed) for f in e.payload.fact_ids]


def replies(history: list[RecordedEvent]) -> list[str]:
    """Outbound ids queued, in stream order."""
    return [e.payload.outbound_id for e in history if isinstance(e.payload, ReplyQueued)]


def outcomes(history: list[RecordedEvent]) -> Counter[str]:
    """How many final outcomes each outbound id has.

    An interrupted send is first recorded as an unknown outcome and may later be
    reconciled by a status webhook: that pair is one outcome, not two.
    """
    counts: Counter[str] = Counter()
    unknown: set[str] = set()
    for e in history:
        p = e.payload
        if isinstance(p, OutboundFailed) and p.outcome_unknown:
            unknown.add(p.outbound_id)
        elif isinstance(p, OutboundReconciled) and p.outbound_id in unknown:
            continue
        if isinstance(p, OUTCOMES):
            counts[p.outbound_id] += 1
    return counts


def settled(history: list[RecordedEvent]) -> bool:
    """Every message is covered by a turn and every reply has an outcome."""
    done = outcomes(history)
    return set(messages(history)) <= set(covered(history)) and all(
        done[oid] for oid in replies(history)
    )


def accepted_by_id(graph: FakeGraphApi) -> Counter[str]:
    """How many sends the fake accepted per ``biz_opaque_callback_data``."""
    return Counter(str(body.get("biz_opaque_callback_data")) for body in graph.accepted)


def requested_by_id(graph: FakeGraphApi) -> Counter[str]:
    """How many send requests reached the fake per our id (accepted or not)."""
    return Counter(
        str(r.json["biz_opaque_callback_data"])
        for r in graph.requests
        if isinstance(r.json, dict) and "biz_opaque_callback_data" in r.json
    )
