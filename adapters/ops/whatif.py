"""``dloop-bot what-if``: today's NLU and rules over recorded turns, compared with the log.

Every customer turn the conversation reactor decided is found from its
``engine.turn_processed`` marker: the facts it lists, the decisions appended just before
it (``decisions`` of them) and the state folded from everything earlier. The turn is then
decided again, purely, as the reactor would today: the assistant is asked when the rules
would ask it (the current offline NLU, or OpenAI), and ``decide_turn`` runs at the time
the turn was decided. Nothing is written and Meta is never called. Differences are named
by aspect: ``classification`` (intent), ``match`` (cart lines, unresolved words, products)
and ``answer`` (the replies queued, their kinds and texts, and the other decisions).
A text the assistant wrote (``engine.reply_generated``) is reused, not regenerated.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from adapters.ops.rawlog import import_all_events, read_stream, streams_like
from adapters.ops.summaries import clip
from adapters.store.event_store import EventStore
from core import media
from core.catalog import Catalog
from core.conversation import (
    ConversationState,
    CustomerTurn,
    TurnContext,
    decide_preferences,
    decide_turn,
    fold,
    needs_understanding,
    understanding_event,
)
from core.ports import Assistant, AssistantError
from core.turn_memory import TurnMemory, remember_all, seen_by_turn
from core.understanding import Understanding
from events.base import ERASED, RecordedEvent
from events.conversation import ConversationStarted, MessageUnderstood, ReplyQueued
from events.engine import ReplyGenerated, TurnProcessed
from events.errors import EventDecodeError
from events.whatsapp import MessageReceived, UserPreferencesReceived


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


async def what_if(
    store: EventStore,
    assistant: Assistant,
    catalog: Catalog,
    *,
    engine: str = "offline",
    since: datetime | None = None,
) -> WhatIfReport:
    """Decide every recorded turn (after ``since``) again and report the differences."""
    import_all_events()
    report = WhatIfReport(engine=engine, since=since)
    for stream in await streams_like(store.engines, "conversation-"):
        for turn in await _turns_of(store, stream, since):
            report.turns += 1
            await _compare(turn, assistant, catalog, report)
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


async def _compare(
    rec: _Recorded, assistant: Assistant, catalog: Catalog, report: WhatIfReport
) -> None:
    messages = [f for f in rec.facts if isinstance(f, MessageReceived)]
    if not messages or any(m.text == ERASED for m in messages):
        return  # nothing to ask of today's rules: an erased person's words are gone
    state, prefs = _state(rec)
    seen = media.prepare(messages, media.recorded_readings(rec.before), _around(rec, state))
    if not seen.messages:
        return  # only reactions that were ignored: nothing to decide again
    turn = CustomerTurn(messages=seen.messages)
    now = rec.marker.recorded_at
    understanding = None
    if turn.text and needs_understanding(state, turn, now):  # as the reactor asks
        understanding = await _understand(rec, turn, assistant, catalog, report)
        if understanding is None:
            return  # the assistant failed: reported
    reply_text = _memory(rec).answer(ReplyGenerated, turn.wamids)
    context = TurnContext(
        catalog=catalog,
        kind=state.kind,
        reply_text=None if reply_text is None else reply_text.text,
        media_reply=None if turn.text else seen.alone,
    )
    decided = decide_turn(fold(state, prefs), turn, understanding, now, _ids(), context=context)
    today = [*prefs, *media.lead_with(decided, seen.lead), *seen.notes]
    recorded, new = _answers(rec.decisions), _answers(today)
    if recorded != new:
        _differ(report, rec, turn, "answer", was=recorded, now=new)


async def _understand(
    rec: _Recorded, turn: CustomerTurn, assistant: Assistant, catalog: Catalog, report: WhatIfReport
) -> Understanding | None:
    """Today's reading of the turn, compared with the recorded one; None if it failed."""
    report.understood += 1
    try:
        understood = await assistant.understand(
            turn.text, history=list(_memory(rec).history), catalog=catalog
        )
    except AssistantError as exc:
        _differ(report, rec, turn, "assistant", was="an answer", now=f"failed: {exc}")
        return None
    _compare_understanding(report, rec, turn, understanding_event(turn.wamids, understood))
    return understood.understanding


def _state(rec: _Recorded) -> tuple[ConversationState, list[object]]:
    """The state the reactor decided from, and the decisions of preference facts."""
    key = rec.stream.removeprefix("conversation-")
    started = next((d for d in rec.decisions if isinstance(d, ConversationStarted)), None)
    initial = (
        ConversationState(key=key)
        if started is None
        else ConversationState(key=key, kind=started.kind)
    )
    state = _memory(rec, initial).state
    prefs: list[object] = []
    for fact in rec.facts:
        if isinstance(fact, UserPreferencesReceived):
            prefs += decide_preferences(fold(state, prefs), fact)
    return state, prefs


def _around(rec: _Recorded, state: ConversationState) -> media.Surroundings:
    """What the media rules read (the area is not known here: positions are all taken)."""
    return media.Surroundings(state=state, history=[e.payload for e in rec.before])


def _compare_understanding(
    report: WhatIfReport, rec: _Recorded, turn: CustomerTurn, today: MessageUnderstood
) -> None:
    recorded = _memory(rec).answer(MessageUnderstood, turn.wamids)
    if recorded is None:
        _differ(
            report, rec, turn, "classification", was="not read by the assistant", now=today.intent
        )
        return
    if recorded.intent != today.intent:
        _differ(report, rec, turn, "classification", was=recorded.intent, now=today.intent)
    if _matches(recorded) != _matches(today):
        _differ(report, rec, turn, "match", was=_matches(recorded), now=_matches(today))


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


def _differ(
    report: WhatIfReport, rec: _Recorded, turn: CustomerTurn, aspect: str, *, was: str, now: str
) -> None:
    report.differences.append(
        Difference(rec.stream, rec.marker.position, turn.wamids, aspect, was, now)
    )


def _memory(rec: _Recorded, initial: ConversationState | None = None) -> TurnMemory:
    """What the reactor knew when it decided the turn: the same fold it keeps."""
    start = TurnMemory(
        state=initial or ConversationState(key=rec.stream.removeprefix("conversation-"))
    )
    return remember_all(start, seen_by_turn(rec.before, rec.marker.payload.fact_ids))


def _ids() -> Iterator[str]:
    return (f"what-if-{n}" for n in itertools.count(1))
