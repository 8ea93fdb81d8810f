"""Media metrics come from the log: handled items by kind and outcome, model latency."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from adapters.metrics import ServiceMetrics
from events.base import Metadata, RecordedEvent
from events.media import MediaHandled, MediaRead


def recorded(payload: object, position: int) -> RecordedEvent:
    """``payload`` as a stored event."""
    return RecordedEvent(
        position=position,
        event_id=uuid.uuid4(),
        stream="conversation-prs_x",
        version=position,
        type=type(payload).TYPE,  # type: ignore[attr-defined]
        schema_version=1,
        payload=payload,
        metadata=Metadata(),
        recorded_at=datetime(2026, 12, 5, tzinfo=UTC),
    )


def test_media_handled_is_counted_by_kind_and_outcome() -> None:
    """Two transcribed voice notes and one ignored reaction, counted apart."""
    metrics = ServiceMetrics()
    items = [
        MediaHandled(wamid="w1", kind="audio", outcome="transcribed"),
        MediaHandled(wamid="w2", kind="audio", outcome="transcribed"),
        MediaHandled(wamid="w3", kind="reaction", outcome="ignored"),
    ]
    metrics.observe([recorded(p, i) for i, p in enumerate(items, 1)])
    sample = metrics.registry.get_sample_value
    assert sample("dloop_media_handled_total", {"kind": "audio", "outcome": "transcribed"}) == 2
    assert sample("dloop_media_handled_total", {"kind": "reaction", "outcome": "ignored"}) == 1


def test_model_latency_is_observed_per_operation() -> None:
    """A 1.2 s transcription lands in the transcription histogram, not in vision's."""
    metrics = ServiceMetrics()
    read = MediaRead(
        wamid="w1",
        media_id="m1",
        kind="audio",
        operation="transcription",
        sha256="00" * 32,
        mime_type="audio/ogg",
        size=10,
        model="whisper-1",
        latency_ms=1200,
        text="ciao",
    )
    metrics.observe([recorded(read, 1)])
    sample = metrics.registry.get_sample_value
    assert sample("dloop_media_model_seconds_sum", {"operation": "transcription"}) == 1.2
    assert sample("dloop_media_model_seconds_count", {"operation": "vision"}) is None
