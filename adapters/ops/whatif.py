"""``dloop-bot what-if``: today's NLU and rules over recorded turns, compared with the log.

Every customer turn the conversation reactor decided is found from its
``engine.turn_processed`` marker: the facts it lists, the decisions appended just before
it (``decisions`` of them) and what was stored before the turn. The turn is then run
again by the same runner and the same decider the reactor uses
(:func:`adapters.engine.runner.run` with :data:`core.turn_decider.CONVERSATION`), so
what-if cannot drift from it: its memory is the reactor's fold of the stream before the
turn's answers, the catalogue is the one customers were offered then (the ``catalog``
stream folded up to the turn: a dealer's «esaurito» counts from where it was said), and
the time is when the turn was decided. Its requests are answered by a recording shell:
the assistant (today's offline NLU, or OpenAI) is asked to read the words again, media
readings and written chat replies are the recorded ones (never re-generated), orders are
looked up as they stood then. Nothing is written and Meta is never called. Differences
are named by aspect: ``classification`` (intent), ``match`` (cart lines, unresolved
words, products) and ``answer`` (the replies queued, their kinds and texts, and the
other decisions).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from adapters.engine.conversation import turn_ids
from adapters.engine.order_lookup import latest_orders
from adapters.engine.order_runtime import shop_facts
from adapters.engine.runner import Process, run
from adapters.market.live import CATALOG_STREAM
from adapters.ops.rawlog import import_all_events, read_stream, streams_like
from adapters.ops.summaries import clip
from adapters.settings import Settings
from adapters.store.event_store import EventStore
from core import media
from core.area import DeliveryArea, parse_area
from core.business_facts import ShopFacts
from core.catalog import Catalog
from core.conversation import ConversationState, TurnContext
from core.market import apply_catalog_event
from core.ports import Assistant, AssistantError
from core.recorded_reading import understanding_event
from core.turn_decider import (
    CONVERSATION,
    LookUpOrders,
    MediaSeen,
    OrdersFound,
    ReadMedia,
    TurnEvent,
    TurnInputs,
    TurnRequest,
    Understand,
    WriteReply,
)
from core.turn_memory import TurnMemory, remember_all, seen_by_turn
from events.base import ERASED, RecordedEvent
from events.conversation import (
    AssistantFailed,
    ConversationStarted,
    MessageUnderstood,
    ReplyQueued,
)
from events.engine import ReplyGenerated, TurnProcessed
from events.errors import EventDecodeError
from events.whatsapp import MessageReceived


@dataclass(frozen=True, slots=True)
class Difference:
    """One way today's rules part from what was recorded for a turn."""

    stream: str
    position: int  # the turn's TurnProcessed marker
    wamids: tuple[str, ...]
    aspect: str  # classification | match | answer | assistant
    recorded: str
    today: str

    def to_json(self) -> dict[str, Any]:
        """The difference as a JSON object."""
        return {
            "stream": self.stream,
            "position": self.position,
            "wamids": list(self.wamids),
            "aspect": self.aspect,
            "recorded": self.recorded,
            "today": self.today,
        }


@dataclass(slots=True)
class WhatIfReport:
    """Turns replayed, turns the assistant read again, and every difference found."""

    engine: str
    since: datetime | None
    turns: int = 0
    understood: int = 0
    differences: list[Difference] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """The ``--json`` output."""
        return {
            "engine": self.engine,
            "since": None if self.since is None else self.since.isoformat(),
            "turns": self.turns,
            "understood": self.understood,
            "differences": [d.to_json() for d in self.differences],
        }

    def lines(self) -> list[str]:
        """The report for a terminal."""
        out = [
            f"{d.stream} @{d.position} [{d.aspect}] recorded: {d.recorded} | today: {d.today}"
            for d in self.differences
        ]
        changed = len({(d.stream, d.position) for d in self.differences})
        out.append(
            f"what-if ({self.engine}): {self.turns} turns, {self.understood} read by the"
            f" assistant, {changed} decided differently today"
        )
        return out


@dataclass(frozen=True, slots=True)
class _Recorded:
    """A recorded turn: what came before, its facts and the decisions taken."""

    stream: str
    marker: RecordedEvent
    before: Sequence[RecordedEvent]
    facts: Sequence[Any]
    decisions: Sequence[Any]

    @property
    def prelude(self) -> list[RecordedEvent]:
        """The answers recorded for this turn (appended with it, ahead of its decisions)."""
        cause = self.marker.metadata.causation_id
        return [e for e in self.before if _answered_for(e, cause)]

    @property
    def wamids(self) -> tuple[str, ...]:
        """The turn's messages."""
        return tuple(f.wamid for f in self.facts if isinstance(f, MessageReceived))


class _AbandonedError(Exception):
    """Today's assistant failed on a turn: reported, nothing more to compare."""


@dataclass(slots=True)
class _Catalogues:
    """The catalogue as customers were offered it at a position: the file plus the
    ``catalog`` stream's events recorded before that position."""

    base: Catalog
    events: list[RecordedEvent] = field(default_factory=list)

    def at(self, position: int) -> Catalog:
        catalog = self.base
        for e in self.events:
            if e.position >= position:
                break
            catalog = apply_catalog_event(catalog, e.payload)
        return catalog


@dataclass(frozen=True, slots=True)
class Rules:
    """What the rules read besides the log and the catalogue: the business facts (the
    checkout) and the delivery area (positions shared on WhatsApp)."""

    shop: ShopFacts | None = None
    area: DeliveryArea | None = None
    zones: str | None = None


def rules_of(settings: Settings) -> Rules:
    """The rules' settings as the service builds them."""
    area = parse_area(settings.delivery_area) if settings.delivery_area else None
    return Rules(shop=shop_facts(settings), area=area, zones=settings.delivery_zones)


async def what_if(
    store: EventStore,
    assistant: Assistant,
    catalog: Catalog,
    *,
    engine: str = "offline",
    since: datetime | None = None,
    rules: Rules | None = None,
) -> WhatIfReport:
    """Decide every recorded turn (after ``since``) again and report the differences."""
    import_all_events()
    report = WhatIfReport(engine=engine, since=since)
    catalogues = _Catalogues(catalog, await store.read_stream(CATALOG_STREAM))
    for stream in await streams_like(store.engines, "conversation-"):
        for turn in await _turns_of(store, stream, since):
            report.turns += 1
            shell = _Shell(store, assistant, report, turn, catalogues)
            await shell.compare(rules or Rules())
    return report


async def _turns_of(store: EventStore, stream: str, since: datetime | None) -> list[_Recorded]:
    events: list[RecordedEvent] = []
    for row in await read_stream(store.engines, stream):
        try:
            events.append(row.decode())
        except (EventDecodeError, ValueError):
            continue  # audit names unreadable rows; what-if replays what it can read
    out = []
    for i, marker in enumerate(events):
        if not isinstance(marker.payload, TurnProcessed):
            continue
        if since is not None and marker.recorded_at < since:
            continue
        n = marker.payload.decisions
        before = events[: i - n]
        ids = set(marker.payload.fact_ids)
        facts = [e.payload for e in before if str(e.event_id) in ids]
        decisions = [e.payload for e in events[i - n : i]]
        out.append(_Recorded(stream, marker, before, facts, decisions))
    return out


class _Shell:
    """The recording shell of one replayed turn: the runner's ``load``, ``perform`` and
    ``append`` over the log instead of the world."""

    def __init__(
        self,
        store: EventStore,
        assistant: Assistant,
        report: WhatIfReport,
        rec: _Recorded,
        catalogues: _Catalogues,
    ) -> None:
        self.store, self.assistant, self.report, self.rec = store, assistant, report, rec
        self.catalog = catalogues.at(rec.marker.position)
        self.today: tuple[TurnEvent, ...] = ()
        self.rules = Rules()

    async def compare(self, rules: Rules) -> None:
        """Run the turn again and report how today's decisions differ from the recorded."""
        rec = self.rec
        messages = [f for f in rec.facts if isinstance(f, MessageReceived)]
        if not messages or any(m.text == ERASED for m in messages):
            return  # nothing to ask of today's rules: an erased person's words are gone
        memory = _memory(rec)
        self.rules = rules
        context = TurnContext(catalog=self.catalog, kind=memory.state.kind, shop=rules.shop)
        process: Process[TurnMemory, TurnInputs, TurnEvent, TurnRequest] = Process(
            name="what-if",
            decider=CONVERSATION,
            load=lambda _stream: _loaded(memory, rec),
            append=self._keep,
            perform=self._perform,
            ids=turn_ids,
            clock=lambda: rec.marker.recorded_at,
        )
        inputs = TurnInputs(context=context, generate_chat_replies=True)
        try:
            await run(process, rec.stream, inputs)
        except _AbandonedError:
            return
        if not self.today or not rec.wamids:
            return
        marker = self.today[-1]
        n = marker.decisions if isinstance(marker, TurnProcessed) else 0
        recorded, new = _answers(rec.decisions), _answers(self.today[len(self.today) - 1 - n :])
        if recorded != new:
            self._differ("answer", was=recorded, now=new)

    async def _keep(self, _stream: str, _version: int, events: tuple[TurnEvent, ...]) -> None:
        self.today = events

    async def _perform(self, _stream: str, request: TurnRequest) -> list[TurnEvent]:
        rec = self.rec
        match request:
            case ReadMedia():
                around = media.Surroundings(
                    state=request.state,
                    history=[e.payload for e in _before_answers(rec)],
                    area=self.rules.area,
                    zones=self.rules.zones,
                )
                readings = media.recorded_readings(rec.before)  # the turn's own, recorded
                return [MediaSeen(media.prepare(request.facts, readings, around))]
            case Understand():
                return await self._understand(request)
            case LookUpOrders():
                orders = await latest_orders(
                    self.store, self.catalog, rec.before, before=rec.marker.position
                )
                return [OrdersFound(orders)]
            case WriteReply():  # never written again: the recorded text, if any
                written = [
                    e.payload
                    for e in rec.prelude
                    if isinstance(e.payload, ReplyGenerated)
                    and tuple(e.payload.wamids) == request.wamids
                ]
                if written:
                    return written
                return [
                    AssistantFailed(
                        operation="reply", error="what-if writes no replies", wamids=request.wamids
                    )
                ]

    async def _understand(self, request: Understand) -> list[TurnEvent]:
        """Today's reading of the turn, compared with the recorded one."""
        self.report.understood += 1
        try:
            understood = await self.assistant.understand(
                request.text, history=list(request.history), catalog=self.catalog
            )
        except AssistantError as exc:
            self._differ("assistant", was="an answer", now=f"failed: {exc}")
            raise _AbandonedError from exc
        today = understanding_event(request.wamids, understood)
        self._compare_understanding(today)
        return [today]

    def _compare_understanding(self, today: MessageUnderstood) -> None:
        recorded = next(
            (e.payload for e in self.rec.prelude if isinstance(e.payload, MessageUnderstood)),
            None,
        )
        if recorded is None:
            self._differ("classification", was="not read by the assistant", now=today.intent)
            return
        if recorded.intent != today.intent:
            self._differ("classification", was=recorded.intent, now=today.intent)
        if _matches(recorded) != _matches(today):
            self._differ("match", was=_matches(recorded), now=_matches(today))

    def _differ(self, aspect: str, *, was: str, now: str) -> None:
        rec = self.rec
        self.report.differences.append(
            Difference(rec.stream, rec.marker.position, rec.wamids, aspect, was, now)
        )


async def _loaded(memory: TurnMemory, rec: _Recorded) -> tuple[TurnMemory, int]:
    return memory, rec.marker.version


def _answered_for(event: RecordedEvent, cause: str | None) -> bool:
    """An answer the reactor recorded for the turn caused by ``cause``."""
    return (
        cause is not None
        and event.metadata.causation_id == cause
        and event.metadata.source == "reactor:conversation"
    )


def _memory(rec: _Recorded) -> TurnMemory:
    """What the reactor knew when it decided the turn: the same fold it keeps, over what
    was stored before the turn's own answers (those are asked for again)."""
    key = rec.stream.removeprefix("conversation-")
    started = next((d for d in rec.decisions if isinstance(d, ConversationStarted)), None)
    initial = (
        ConversationState(key=key)
        if started is None
        else ConversationState(key=key, kind=started.kind)
    )
    seen = seen_by_turn(_before_answers(rec), rec.marker.payload.fact_ids)
    return remember_all(TurnMemory(state=initial), seen)


def _before_answers(rec: _Recorded) -> list[RecordedEvent]:
    """What was stored before the turn, without the turn's own recorded answers."""
    cause = rec.marker.metadata.causation_id
    return [e for e in rec.before if not _answered_for(e, cause)]


def _matches(u: MessageUnderstood) -> str:
    cart = ", ".join(f"{c.quantity}x {c.product_id}" for c in u.cart)
    unresolved = ", ".join(f"{x.quantity}x {x.text!r}" for x in u.unresolved)
    products = ", ".join(p.product_id for p in u.products)
    return f"cart [{cart}] unresolved [{unresolved}] products [{products}]"


def _answers(decisions: Sequence[Any]) -> str:
    parts = []
    for d in decisions:
        if isinstance(d, ReplyQueued):
            parts.append(f"{d.kind.value} {clip(d.text, 80)!r}")
        elif not isinstance(d, TurnProcessed):
            parts.append(str(type(d).TYPE))
    return "; ".join(parts) or "(nothing)"
