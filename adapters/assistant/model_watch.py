"""The model watcher: checks the configured models at start-up and daily, and alerts people.

Each check (:func:`~adapters.assistant.model_check.check_models`) is recorded as
``ModelsChecked`` in the ``assistant-models`` stream before anything acts on it; the
chains then learn the dates. A model shutting down within 30 days, retired, or unknown
to the server raises ``ModelAlerted`` with a push to support (the operator-alert path:
review item, ``dloop_operator_alerts``, push), at most once per model per day, counted
from the stream so a restart does not alert again. A mid-run "model not found" (reported
by :class:`~adapters.assistant.models.ModelChain`) is recorded as ``ModelFellThrough`` and
alerts the same way. Offline (no API key) there is no watcher and nothing is asked.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Sequence
from datetime import date

import structlog
from openai import AsyncOpenAI

from adapters.assistant.budget import RequestBudget
from adapters.assistant.model_check import ModelCheckError, check_models
from adapters.assistant.models import ModelChain, utc_today
from adapters.metrics import ServiceMetrics
from adapters.store.event_store import EventStore
from adapters.store.subscriptions import BackgroundLoop
from adapters.store.types import Expect
from core import alerts
from core.models import DueAlert, ModelFacts, days_left, due_alerts, verdict
from events.base import Metadata, NewEvent
from events.models import MODELS_STREAM, ModelAlerted, ModelFellThrough, ModelsChecked, ModelStatus

log = structlog.get_logger(__name__)
NAMESPACE = uuid.UUID("3f0b6a52-8d4e-4c1a-9b7e-2e5d1c9a7f40")
DAY_SECONDS = 24 * 3600.0


class ModelWatcher(BackgroundLoop):
    """Checks the chains' models now and every ``interval`` seconds; never dies."""

    task_name = "model-watcher"

    def __init__(
        self,
        store: EventStore,
        client: AsyncOpenAI,
        chains: Sequence[ModelChain],
        *,
        budget: RequestBudget | None = None,
        metrics: ServiceMetrics | None = None,
        today: Callable[[], date] = utc_today,
        interval: float = DAY_SECONDS,
    ) -> None:
        self.store, self.client, self.budget = store, client, budget
        self.chains: list[ModelChain] = []
        self.metrics, self.today, self.interval = metrics, today, interval
        for chain in chains:
            self.watch(chain)

    def watch(self, chain: ModelChain) -> None:
        """Check ``chain``'s models too, and record its fall-throughs."""
        chain.on_fallthrough = self.fell_through
        self.chains.append(chain)

    @property
    def models(self) -> list[str]:
        """Every watched model, once, in chain order."""
        return list(dict.fromkeys(m for chain in self.chains for m in chain.models))

    async def run_forever(self) -> None:
        """Check now, then once per ``interval``."""
        while True:
            try:
                await self.check()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("models.check_failed", error=str(exc)[:200])
            await asyncio.sleep(self.interval)

    async def check(self) -> ModelsChecked:
        """Ask the server, record what it said, teach the chains, raise the alerts due."""
        day = self.today()
        try:
            found = await check_models(self.client, self.models, budget=self.budget)
        except ModelCheckError as exc:
            failed = ModelsChecked(day=day.isoformat(), method="list", models=(), error=str(exc))
            await self._append([failed])
            log.warning("models.check_failed", error=str(exc))
            return failed
        checked = ModelsChecked(
            day=day.isoformat(),
            method=found.method,
            models=tuple(_status(f, day) for f in found.facts.values()),
        )
        await self._append([checked])
        for chain in self.chains:
            chain.learn(found.facts)
        if self.metrics is not None:
            self.metrics.observe_models(checked)
        await self._alert(found.facts, day)
        return checked

    async def fell_through(self, model: str, error: str) -> None:
        """A request to ``model`` answered "not found": record it and alert (once a day)."""
        day = self.today()
        log.error("models.fell_through", model=model, error=error[:200])
        await self._append([ModelFellThrough(model=model, day=day.isoformat(), error=error)])
        facts = ModelFacts(model=model, listed=True, not_found=True)
        await self._alert({model: facts}, day)

    async def _alert(self, facts: dict[str, ModelFacts], day: date) -> None:
        history = await self.store.read_stream(MODELS_STREAM)
        alerted = [
            e.payload.model
            for e in history
            if isinstance(e.payload, ModelAlerted) and e.payload.day == day.isoformat()
        ]
        due = due_alerts(facts, day, alerted)
        for alert in due:
            log.error("operator.alert", reason="model_" + alert.reason, model=alert.model)
            await self._append(list(_alert_events(alert, day)), key=f"{alert.model}:{day}")

    async def _append(self, payloads: list[object], key: str | None = None) -> None:
        """Append to the models stream; ``key`` makes the ids deterministic (one alert a day)."""
        events = [
            NewEvent(
                event_id=uuid.uuid5(NAMESPACE, f"{key}:{i}") if key else uuid.uuid4(),
                payload=p,
                metadata=Metadata(source="models"),
            )
            for i, p in enumerate(payloads)
        ]
        await self.store.append(MODELS_STREAM, Expect.ANY, events)


def _status(facts: ModelFacts, day: date) -> ModelStatus:
    return ModelStatus(
        model=facts.model,
        listed=facts.listed,
        shutdown_date=facts.shutdown.isoformat() if facts.shutdown else None,
        days_left=days_left(facts.shutdown, day),
        verdict=verdict(facts, day),
        note=facts.note,
    )


def _alert_events(alert: DueAlert, day: date) -> tuple[ModelAlerted, object]:
    shutdown = alert.shutdown.isoformat() if alert.shutdown else None
    alerted = ModelAlerted(
        model=alert.model,
        reason=alert.reason,
        day=day.isoformat(),
        shutdown_date=shutdown,
        days_left=alert.days_left,
    )
    nid = str(uuid.uuid5(NAMESPACE, f"push:{alert.model}:{day}"))
    return alerted, alerts.model_alert(nid, alert.model, alert.reason, shutdown, alert.days_left)
