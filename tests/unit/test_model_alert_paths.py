"""A model alert takes the operator-alert path: review row, push text, metrics (pure parts)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from adapters.metrics import ServiceMetrics
from core.alerts import model_alert
from events.base import Metadata, RecordedEvent
from events.models import (
    MODELS_STREAM,
    ModelAlerted,
    ModelFellThrough,
    ModelsChecked,
    ModelStatus,
)
from projections.review_queue import ReviewQueueProjection


def recorded(payload: object, position: int = 7) -> RecordedEvent:
    """``payload`` as stored in the models stream."""
    return RecordedEvent(
        position=position,
        event_id=uuid.uuid5(uuid.NAMESPACE_URL, f"test:{position}"),
        stream=MODELS_STREAM,
        version=position,
        type=str(getattr(payload, "TYPE", "")),
        schema_version=1,
        payload=payload,
        metadata=Metadata(),
        recorded_at=datetime(2026, 12, 20, 9, tzinfo=UTC),
    )


def test_a_model_alert_opens_an_operator_alert_review_item() -> None:
    """Kind operator_alert, no conversation, a summary naming model, date and days."""
    alert = ModelAlerted(
        model="gpt-4o-mini",
        reason="shutdown_soon",
        day="2026-12-20",
        shutdown_date="2027-01-14",
        days_left=25,
    )
    [upsert] = ReviewQueueProjection().project(recorded(alert), {})
    row = upsert.values
    assert (row["kind"], row["conversation_id"], row["status"]) == ("operator_alert", None, "open")
    assert row["summary"] == (
        "operator alert: LLM model gpt-4o-mini shuts down on 2027-01-14 (25 days left);"
        " change the model setting"
    )


@pytest.mark.parametrize(
    ("reason", "shutdown", "days", "says"),
    [
        ("shutdown_soon", "2027-01-14", 25, "chiude il 2027-01-14 (tra 25 giorni)"),
        ("retired", None, None, "non risponde più"),
        ("unknown", None, None, "sconosciuto al server"),
    ],
)
def test_the_push_to_support_says_why_in_italian(
    reason: str, shutdown: str | None, days: int | None, says: str
) -> None:
    """Audience support, reason operator_alert, the model and the cause in the data."""
    push = model_alert("n1", "gpt-4o-mini", reason, shutdown, days)
    assert (push.audience, push.reason) == ("support", "operator_alert")
    assert says in push.body
    data = {d.key: d.value for d in push.data}
    assert data == {
        "model": "gpt-4o-mini",
        "code": "model",
        "cause": reason,
        "reason": "operator_alert",
    }


def test_metrics_follow_checks_fall_throughs_and_alerts() -> None:
    """Days left only with a date; availability drops on a fall-through; alerts are counted."""
    metrics = ServiceMetrics()
    checked = ModelsChecked(
        day="2026-12-20",
        method="list",
        models=(
            ModelStatus(
                model="a",
                listed=True,
                shutdown_date="2027-01-14",
                days_left=25,
                verdict="shutdown_soon",
            ),
            ModelStatus(model="b", listed=True, shutdown_date=None, days_left=None, verdict="ok"),
        ),
    )
    fell = ModelFellThrough(model="b", day="2026-12-20", error="HTTP 404 model_not_found")
    alert = ModelAlerted(model="a", reason="shutdown_soon", day="2026-12-20")
    metrics.observe([recorded(checked, 1), recorded(fell, 2), recorded(alert, 3)])
    sample = metrics.registry.get_sample_value
    assert sample("dloop_model_shutdown_days", {"model": "a"}) == 25
    assert sample("dloop_model_shutdown_days", {"model": "b"}) is None
    assert sample("dloop_model_available", {"model": "a"}) == 1
    assert sample("dloop_model_available", {"model": "b"}) == 0
    assert sample("dloop_operator_alerts_total", {"code": "model"}) == 1
