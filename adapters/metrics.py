"""Prometheus metrics, mostly derived from the log itself.

Counters about what happened (events appended by type, sends by outcome and Meta error
code, assistant latency and failures, parked events) come from a tail of the event log
that starts at the position current when the process starts, so no component needs a
metrics hook and every process reports what it sees. Request-level figures (webhook
latency, deliveries, duplicates) are observed by the web layer. Lag per subscriber is
computed when scraped, from the checkpoints table.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence
from typing import Any

import structlog
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from sqlalchemy import select

from adapters.store.event_store import EventStore
from adapters.store.notify import Gather
from adapters.store.schema import checkpoints
from adapters.store.subscriptions import BackgroundLoop
from events.base import RecordedEvent
from events.conversation import AssistantFailed, MessageUnderstood, OutboundFailed, OutboundSent
from events.media import MediaHandled, MediaRead
from events.models import ModelAlerted, ModelFellThrough, ModelsChecked
from events.outbox import OperatorAlerted

log = structlog.get_logger(__name__)
LATENCY_BUCKETS = (0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
ASSISTANT_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0)


class ServiceMetrics:
    """The service's metrics in a registry of its own (one per app, so tests stay apart)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.webhook_latency = Histogram(
            "dloop_webhook_seconds",
            "Webhook handling time",
            ["status"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.deliveries = Counter(
            "dloop_webhook_deliveries", "Webhook deliveries by outcome", ["outcome"], registry=r
        )
        # Label children by value: ``labels()`` costs microseconds on every delivery.
        self._latency_by_status: dict[int, Any] = {}
        self._deliveries_by_outcome: dict[str, Any] = {}
        self.events = Counter(
            "dloop_events_appended", "Events appended, by type", ["type"], registry=r
        )
        self.sends = Counter(
            "dloop_sends",
            "Outbound sends by outcome and Meta error code",
            ["outcome", "code"],
            registry=r,
        )
        self.assistant_latency = Histogram(
            "dloop_assistant_seconds",
            "Assistant latency",
            ["engine"],
            buckets=ASSISTANT_BUCKETS,
            registry=r,
        )
        self.assistant_failures = Counter(
            "dloop_assistant_failures", "Assistant failures", ["operation"], registry=r
        )
        self.operator_alerts = Counter(
            "dloop_operator_alerts",
            "Sends refused through the business's own fault (190 expired token...), by code",
            ["code"],
            registry=r,
        )
        self.media = Counter(
            "dloop_media_handled",
            "Media, locations and reactions, by kind and outcome",
            ["kind", "outcome"],
            registry=r,
        )
        self.media_latency = Histogram(
            "dloop_media_model_seconds",
            "Transcription and vision latency (the model call only)",
            ["operation"],
            buckets=ASSISTANT_BUCKETS,
            registry=r,
        )
        self.lag = Gauge(
            "dloop_subscription_lag_events",
            "Events not yet processed, by subscriber",
            ["subscriber"],
            registry=r,
        )
        self.log_position = Gauge("dloop_log_position", "Highest position in the log", registry=r)
        self.model_shutdown_days = Gauge(
            "dloop_model_shutdown_days",
            "Days until a configured LLM model shuts down (negative: past); absent: no date",
            ["model"],
            registry=r,
        )
        self.model_available = Gauge(
            "dloop_model_available",
            "1 when the server lists the configured LLM model and it is not retired",
            ["model"],
            registry=r,
        )

    def webhook_answered(self, status: int, seconds: float) -> None:
        """Observe one ``/webhook`` answer: ``dloop_webhook_seconds{status}``."""
        child = self._latency_by_status.get(status)
        if child is None:
            child = self.webhook_latency.labels(status=str(status))
            self._latency_by_status[status] = child
        child.observe(seconds)

    def delivery(self, outcome: str) -> None:
        """Count one delivery by outcome: ``dloop_webhook_deliveries{outcome}``."""
        child = self._deliveries_by_outcome.get(outcome)
        if child is None:
            child = self._deliveries_by_outcome[outcome] = self.deliveries.labels(outcome=outcome)
        child.inc()

    def observe(self, events: Sequence[RecordedEvent]) -> None:
        """Count what a batch of stored events says happened."""
        for e in events:
            self.events.labels(type=e.type).inc()
            p = e.payload
            if isinstance(p, OutboundSent):
                self.sends.labels(outcome="sent", code="").inc()
            elif isinstance(p, OutboundFailed):
                outcome = "unknown" if p.outcome_unknown else "failed"
                self.sends.labels(outcome=outcome, code=str(p.code or "")).inc()
            elif isinstance(p, MessageUnderstood):
                self.assistant_latency.labels(engine=p.trace.engine).observe(
                    p.trace.latency_ms / 1000
                )
            elif isinstance(p, AssistantFailed):
                self.assistant_failures.labels(operation=p.operation).inc()
            elif isinstance(p, OperatorAlerted):
                self.operator_alerts.labels(code=str(p.code or "")).inc()
            elif isinstance(p, MediaHandled):
                self.media.labels(kind=p.kind, outcome=p.outcome).inc()
            elif isinstance(p, MediaRead):
                self.media_latency.labels(operation=p.operation).observe(p.latency_ms / 1000)
            elif isinstance(p, ModelAlerted):
                self.operator_alerts.labels(code="model").inc()
            elif isinstance(p, ModelsChecked):
                self.observe_models(p)
            elif isinstance(p, ModelFellThrough):
                self.model_available.labels(model=p.model).set(0)

    def observe_models(self, checked: ModelsChecked) -> None:
        """Set the model gauges from a check (idempotent: gauges, not counters)."""
        for status in checked.models:
            if status.days_left is not None:
                self.model_shutdown_days.labels(model=status.model).set(status.days_left)
            ok = status.listed and status.verdict != "retired"
            self.model_available.labels(model=status.model).set(1 if ok else 0)

    async def refresh_lag(self, store: EventStore) -> int:
        """Update lag gauges; returns the largest lag."""
        last = await store.last_position()
        self.log_position.set(last)
        async with store.engines.reader.connect() as conn:
            rows = (await conn.execute(select(checkpoints.c.name, checkpoints.c.position))).all()
        worst = 0
        for name, position in _current(rows):
            lag = max(0, last - int(position))
            self.lag.labels(subscriber=name).set(lag)
            worst = max(worst, lag)
        return worst

    def render(self) -> bytes:
        """The text exposition format."""
        return generate_latest(self.registry)


def _current(rows: Sequence[Any]) -> list[tuple[str, int]]:
    """The checkpoints in use: a reactor's global one is left once it has partition ones.

    A partitioned reactor (ADR 0018) saves ``reactor:<name>:p<N>`` and ``:shared``; its
    ``reactor:<name>`` row is then only where new partitions start, no longer moved.
    """
    partitioned = {n.rsplit(":", 1)[0] for n, _ in rows if _PARTITION_CHECKPOINT.match(n)}
    return [(n, int(p)) for n, p in rows if n not in partitioned]


_PARTITION_CHECKPOINT = re.compile(r"^reactor:.+:p\d+$")


class LogTail(BackgroundLoop):
    """Feeds :meth:`ServiceMetrics.observe` with events appended after start-up."""

    def __init__(
        self, store: EventStore, metrics: ServiceMetrics, poll_interval: float = 1.0
    ) -> None:
        self.store, self.metrics, self.poll_interval = store, metrics, poll_interval
        self.task_name = "metrics-tail"

    async def run_forever(self) -> None:
        """Observe every event appended after start-up; never die."""
        position: int | None = None
        gather = Gather(0.05)  # as the projections: one pass per 50 ms at most under load
        while True:
            try:
                if position is None:
                    position = await self.store.last_position()
                batch = await self.store.read_all(position, 1000)
                self.metrics.observe(batch)
                if batch:
                    position = batch[-1].position
                    continue
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("metrics.tail_failed", error=str(exc)[:200])
                await asyncio.sleep(self.poll_interval)
                continue
            await self.store.notifier.wait(position, self.poll_interval)
            await gather.pause()
