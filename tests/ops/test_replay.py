"""``replay``: each journey's stream folds to the states it went through and its row."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import text

from adapters.ops.replay import Until, lines, replay
from adapters.ops.targets import TargetError, parse_until, resolve
from adapters.store.event_store import EventStore
from adapters.store.types import Expect
from events.base import NewEvent
from events.orders import OrderAccepted, OrderDrafted
from events.whatsapp import MessageReceived
from projections.messages import conversation_id
from tests.conftest import person_stream
from tests.ops.conftest import ANNA, BRUNO, CARLA, JOURNEYS, Service

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("phone", list(JOURNEYS))
async def test_every_journey_replays_to_its_projected_row(journeys: Service, phone: str) -> None:
    """No difference between the fold and the projected conversation row."""
    result = await replay(journeys.store, person_stream(phone))
    assert result.compared
    assert result.differences == []


async def test_order_journey_passes_through_awaiting_confirmation(journeys: Service) -> None:
    """The cart proposal moves to awaiting_confirmation, the confirmation back to pending."""
    result = await replay(journeys.store, person_stream(ANNA))
    moves = [(s.type, s.stage) for s in result.steps if s.changed]
    assert moves == [
        ("conversation.cart_proposed", "awaiting_confirmation"),
        ("conversation.cart_confirmed", "pending"),
    ]
    assert result.final_stage == "pending"


async def test_support_journey_ends_open(journeys: Service) -> None:
    """The escalation hands the conversation to people."""
    result = await replay(journeys.store, person_stream(BRUNO))
    assert result.final_stage == "open"
    assert [s.type for s in result.steps if s.changed] == ["conversation.escalated"]


async def test_until_position_stops_early_and_skips_the_comparison(journeys: Service) -> None:
    """--until 5 keeps only events up to position 5."""
    result = await replay(journeys.store, person_stream(ANNA), until=Until(position=5))
    assert [s.position for s in result.steps] == [2, 3, 4, 5]
    assert not result.compared


async def test_altered_row_is_reported_as_a_difference(journeys: Service) -> None:
    """A stage changed in the table behind the projection's back is shown."""
    async with journeys.store.engines.writer.begin() as conn:
        await conn.execute(text("UPDATE whatsapp_conversations SET stage = 'resolved'"))
    result = await replay(journeys.store, person_stream(CARLA))
    assert result.differences == ["stage: projected 'resolved', replay 'pending'"]


async def test_a_projection_behind_the_stream_is_compared_as_of_its_checkpoint(
    journeys: Service,
) -> None:
    """A message not yet projected (a backup taken while serving) is a lag, not a difference."""
    stream = person_stream(CARLA)
    late = MessageReceived(
        wamid=f"wamid.late.{uuid.uuid4().hex[:6]}", wa_id=CARLA[1:], phone=CARLA, bsuid=None,
        kind="text", text="ci sono?", sent_at=datetime(2026, 1, 1, tzinfo=UTC),
    )  # fmt: skip
    await journeys.store.append(stream, Expect.ANY, [NewEvent(event_id=uuid.uuid4(), payload=late)])
    result = await replay(journeys.store, stream)
    assert result.differences == []
    assert any("before this stream's last event" in n for n in result.notes)
    async with journeys.store.engines.writer.begin() as conn:
        await conn.execute(text("UPDATE whatsapp_conversations SET message_count = 99"))
    result = await replay(journeys.store, stream)
    assert [d.split(":")[0] for d in result.differences] == ["message_count"]


async def test_missing_row_is_reported(journeys: Service) -> None:
    """A conversation without its projected row is a difference."""
    async with journeys.store.engines.writer.begin() as conn:
        await conn.execute(text("DELETE FROM whatsapp_conversations"))
    result = await replay(journeys.store, person_stream(CARLA))
    assert result.differences == [
        f"whatsapp_conversations has no row {conversation_id(person_stream(CARLA))}"
    ]


async def test_verbose_adds_each_events_data(journeys: Service) -> None:
    """--verbose carries the stored data of every step."""
    result = await replay(journeys.store, person_stream(ANNA), verbose=True)
    assert result.steps[0].data["text"] == JOURNEYS[ANNA][0]
    assert any("'text': " in line for line in lines(result))


async def test_order_relay_streams_fold_with_the_relay_machine(store: EventStore) -> None:
    """An order-<id> stream shows the relay stages."""
    drafted = OrderDrafted(
        relay_id="r1", customer_key=ANNA, cart_id="c1", dealer_id="d1",
        dealer_phone="+390212345678", lines=(), total=Decimal("0.00"),
    )  # fmt: skip
    accepted = OrderAccepted(relay_id="r1", accepted_at=datetime(2026, 1, 1, tzinfo=UTC))
    news = [NewEvent(event_id=uuid.uuid4(), payload=p) for p in (drafted, accepted)]
    await store.append("order-r1", Expect.NO_STREAM, news)
    stream = await resolve(store, order="r1")
    result = await replay(store, stream)
    assert [s.stage for s in result.steps] == ["draft", "accepted"]
    assert result.notes == ["no projected table to compare this stream with"]


async def test_conversation_id_resolves_to_its_stream(journeys: Service) -> None:
    """--conversation takes the projected id and finds the stream from the log."""
    cid = conversation_id(person_stream(BRUNO))
    assert await resolve(journeys.store, conversation=cid) == person_stream(BRUNO)


async def test_unknown_conversation_id_is_a_clear_error(store: EventStore) -> None:
    """An id no stream has is refused with its value."""
    with pytest.raises(TargetError, match="no conversation stream has id 'nope'"):
        await resolve(store, conversation="nope")


def test_until_reads_a_position_or_a_time() -> None:
    """Digits are a position; anything else must be an ISO time (naive means UTC)."""
    assert parse_until("42") == (42, None)
    assert parse_until("2026-01-02T03:04") == (None, datetime(2026, 1, 2, 3, 4, tzinfo=UTC))
    with pytest.raises(TargetError, match="neither a position nor an ISO 8601 time"):
        parse_until("yesterday")
