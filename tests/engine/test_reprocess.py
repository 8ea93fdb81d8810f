"""Parked events are re-driven by ``reprocess`` (the library call and ``dloop-bot reprocess``)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import pytest

from adapters.engine.dispatch import DispatchOptions, StreamDispatcher
from adapters.store.engine import create_engines
from adapters.store.event_store import EventStore
from adapters.store.types import Expect
from events.base import NewEvent, RecordedEvent
from events.engine import ParkedEventReprocessed, ReactorEventParked, TurnProcessed
from events.whatsapp import MessageReceived
from scripts.bench_e2e import migrate_url
from scripts.cli import main
from tests.support.sample_events import Noted

pytestmark = pytest.mark.integration
FAST = DispatchOptions(attempts=2, retry_delay=0.001)


class Flaky:
    """A handler that fails until ``healed`` and records what it handled."""

    def __init__(self) -> None:
        self.healed = False
        self.handled: list[str] = []

    async def __call__(self, _stream: str, events: Sequence[RecordedEvent]) -> None:
        if not self.healed:
            raise RuntimeError("dealer API down")
        self.handled.extend(e.payload.text for e in events)


async def parked_after_failures(store: EventStore, handler: Flaky) -> StreamDispatcher:
    """Append one note, let the failing handler park it, return the dispatcher."""
    note = NewEvent(event_id=uuid.uuid4(), payload=Noted(text="hello"))
    await store.append("s-1", Expect.ANY, [note])
    dispatcher = StreamDispatcher(store, "t", lambda e: e.type == Noted.TYPE, handler, FAST)
    await dispatcher.run_until_idle()
    assert dispatcher.parked == 1
    return dispatcher


async def reprocessed(store: EventStore) -> list[ParkedEventReprocessed]:
    """The outcomes recorded in the parked stream."""
    return [
        e.payload
        for e in await store.read_stream("parked-t")
        if isinstance(e.payload, ParkedEventReprocessed)
    ]


async def test_reprocess_after_the_cause_is_fixed_handles_and_records_success(
    store: EventStore,
) -> None:
    """A parked event re-driven once the handler recovers is handled and marked succeeded."""
    handler = Flaky()
    dispatcher = await parked_after_failures(store, handler)
    handler.healed = True
    [outcome] = await dispatcher.reprocess()
    assert outcome.succeeded
    assert handler.handled == ["hello"]
    assert await reprocessed(store) == [outcome]


async def test_reprocess_that_fails_again_records_the_error_and_stays_pending(
    store: EventStore,
) -> None:
    """A re-drive that still fails is recorded with its error; the next run tries again."""
    handler = Flaky()
    dispatcher = await parked_after_failures(store, handler)
    [first] = await dispatcher.reprocess()
    assert not first.succeeded
    assert first.error is not None
    assert "dealer API down" in first.error
    handler.healed = True
    [second] = await dispatcher.reprocess()
    assert second.succeeded
    assert await dispatcher.reprocess() == []


async def test_cli_reprocess_redrives_a_parked_customer_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``dloop-bot reprocess --reactor conversation`` answers a parked message."""
    url = f"sqlite+aiosqlite:///{tmp_path}/cli.db"
    await migrate_url(url)
    engines = create_engines(url)
    store = EventStore(engines)
    message = MessageReceived(
        wamid="wamid.PARKED1",
        wa_id="393281234567",
        phone="+393281234567",
        bsuid=None,
        kind="text",
        text="ciao",
        sent_at=datetime.now(UTC),
    )
    stream = "conversation-+393281234567"
    done = await store.append(
        stream, Expect.ANY, [NewEvent(event_id=uuid.uuid4(), payload=message)]
    )
    parked = ReactorEventParked(
        reactor="conversation",
        stream=stream,
        position=done.appended[0].position,
        event_type=MessageReceived.TYPE,
        error="RuntimeError: boom",
    )
    await store.append(
        "parked-conversation", Expect.ANY, [NewEvent(event_id=uuid.uuid4(), payload=parked)]
    )
    monkeypatch.setenv("DATABASE_URL", url)
    status = await _run_cli(["reprocess", "--reactor", "conversation"])
    assert status == 0
    assert "1 parked event(s) re-driven, 0 still failing" in capsys.readouterr().out
    history = await store.read_stream(stream)
    assert any(isinstance(e.payload, TurnProcessed) for e in history)
    await engines.dispose()


async def test_cli_reprocess_rejects_a_non_positive_position(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """``--position 0`` is refused with a one-line message and exit status 2."""
    assert await _run_cli(["reprocess", "--position", "0"]) == 2
    assert "--position must be a positive log position" in capsys.readouterr().err


async def _run_cli(argv: list[str]) -> int:
    """Run the CLI (which starts its own event loop) in a worker thread."""
    return await asyncio.to_thread(main, argv)
