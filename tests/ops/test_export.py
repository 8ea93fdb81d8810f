"""``export``: everything about one person, and nothing about anyone else."""

from __future__ import annotations

import json

import pytest

from adapters.ops.export import export_person
from adapters.ops.targets import TargetError
from adapters.store.event_store import EventStore
from tests.conftest import person_stream
from tests.ops.conftest import ANNA, BRUNO, JOURNEYS, Service

pytestmark = pytest.mark.integration


async def test_export_holds_the_whole_conversation_stream(journeys: Service) -> None:
    """Every event of the person's stream is exported with its data."""
    doc = await export_person(journeys.store, ANNA)
    stored = await journeys.store.read_stream(person_stream(ANNA))
    assert [e["position"] for e in doc["events"]] == [e.position for e in stored]
    assert doc["subject"]["phone"] == ANNA


async def test_export_holds_the_raw_bodies_that_mention_them(journeys: Service) -> None:
    """One raw webhook body per message they sent, each containing their number."""
    doc = await export_person(journeys.store, ANNA)
    bodies = [b["data"]["body"] for b in doc["webhook_bodies"]]
    assert len(bodies) == len(JOURNEYS[ANNA])
    assert all(ANNA.removeprefix("+") in body for body in bodies)


async def test_export_holds_their_read_table_rows(journeys: Service) -> None:
    """Their conversation row and every message row to or from them."""
    doc = await export_person(journeys.store, ANNA)
    [conversation] = doc["rows"]["whatsapp_conversations"]
    assert conversation["phone"] == ANNA
    directions = sorted(m["direction"] for m in doc["rows"]["whatsapp_messages"])
    assert directions == ["inbound", "inbound", "outbound", "outbound"]


async def test_export_leaves_other_people_out(journeys: Service) -> None:
    """Nothing in Anna's export mentions Bruno."""
    doc = await export_person(journeys.store, ANNA)
    assert BRUNO.removeprefix("+") not in json.dumps(doc, ensure_ascii=False)


async def test_export_accepts_the_number_in_any_usual_spelling(journeys: Service) -> None:
    """``328 123 4567`` finds the same person as ``+393281234567``."""
    doc = await export_person(journeys.store, "328 123 4567")
    assert doc["subject"]["phone"] == ANNA


async def test_export_of_an_unknown_person_is_empty(store: EventStore) -> None:
    """A number we never heard from gives an export with nothing in it."""
    doc = await export_person(store, "+393331234567")
    assert (doc["events"], doc["webhook_bodies"], doc["rows"]) == ([], [], {})


async def test_export_refuses_what_is_not_a_phone(store: EventStore) -> None:
    """A malformed number is a clear error, not an empty export."""
    with pytest.raises(TargetError, match="not a phone number"):
        await export_person(store, "not-a-number")
