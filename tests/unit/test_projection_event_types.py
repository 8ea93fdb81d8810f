"""Each projection's ``event_types`` covers every event it can use (a rebuild reads only those).

Every shipped event type (its golden sample) is offered to every projection in the streams
where such events live; whenever ``needs`` asks for a row, the type must be declared.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest

import events
from adapters.readmodel.registry import all_projections
from events.base import Metadata, RecordedEvent
from events.codec import decode_payload

for _module in pkgutil.iter_modules(events.__path__, prefix="events."):
    importlib.import_module(_module.name)

GOLDEN = Path(__file__).parents[1] / "golden"
STREAMS = ("conversation-+393281234567", "order-r1", "parked-conversation", "catalog", "x")
CURRENT = sorted(GOLDEN.glob("*@v*.json"))


@pytest.mark.parametrize("path", CURRENT, ids=lambda p: p.stem)
def test_a_type_a_projection_uses_is_declared(path: Path) -> None:
    """needs(event) non-empty implies event.type in event_types."""
    document = json.loads(path.read_text(encoding="utf-8"))
    payload = decode_payload(document["type"], document["schema_version"], document["data"])
    for stream in STREAMS:
        event = RecordedEvent(
            position=1,
            event_id=uuid.uuid4(),
            stream=stream,
            version=1,
            type=document["type"],
            schema_version=1,
            payload=payload,
            metadata=Metadata(),
            recorded_at=datetime(2026, 11, 27, tzinfo=UTC),
        )
        for projection in all_projections():
            if projection.needs(event):
                assert event.type in projection.event_types, (projection.name, stream)


def test_raw_webhooks_are_read_by_no_projection() -> None:
    """The largest events, the verbatim webhooks, are skipped by a rebuild."""
    assert all("whatsapp.webhook_received" not in p.event_types for p in all_projections())
