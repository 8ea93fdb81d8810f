"""``dloop-bot replay``: one stream's timeline with its state machine folded event by event.

Each line is one event: position, time, type, a short summary, and for conversation and
order-relay streams the stage after the event (``core.conversation.evolve`` /
``core.order_relay.evolve_relay``) and whether it changed. The final fold is compared
with the projected ``whatsapp_conversations`` row: its stage with ``evolve``'s, its
``message_count`` with the messages in and out of the stream, its ``conversation_type``
with the party kind. (``dloop-bot audit`` compares every column of every row.)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any

from sqlalchemy import select

from adapters.ops.rawlog import RawEvent, import_all_events, read_stream
from adapters.ops.summaries import summarize
from adapters.readmodel.tables import whatsapp_conversations
from adapters.store.event_store import EventStore, gc_paused
from core.conversation import ConversationState
from core.conversation import evolve as evolve_conversation
from core.order_relay import RelayState, evolve_relay
from events.base import fast_constructor
from events.codec import encode_payload
from events.conversation import ReplyQueued
from events.errors import EventDecodeError
from events.whatsapp import MessageReceived
from projections.messages import conversation_id

CONVERSATION, ORDER = "conversation-", "order-"
COUNTED = (MessageReceived, ReplyQueued)  # what ``message_count`` counts in the projection


@dataclass(frozen=True, slots=True)
class Until:
    """Where the replay stops: a position, or a time (``recorded_at``), inclusive."""

    position: int | None = None
    time: datetime | None = None

    def keeps(self, row: RawEvent) -> bool:
        """Whether ``row`` is within the limit."""
        if self.position is not None and row.position > self.position:
            return False
        return self.time is None or row.recorded_at <= self.time


@dataclass(frozen=True, slots=True)
class Step:
    """One line of the timeline."""

    position: int
    version: int
    recorded_at: datetime
    type: str
    summary: str
    stage: str | None  # None for streams without a state machine
    changed: bool
    data: Any = None  # the stored data (``--verbose``)

    def to_json(self) -> dict[str, Any]:
        """The step as a JSON object."""
        out = {
            "position": self.position,
            "version": self.version,
            "recorded_at": self.recorded_at.isoformat(),
            "type": self.type,
            "summary": self.summary,
            "stage": self.stage,
            "changed": self.changed,
        }
        if self.data is not None:
            out["data"] = self.data
        return out


@dataclass(slots=True)
class Replay:
    """A replayed stream: its steps, final stage and differences with the projections."""

    stream: str
    steps: list[Step] = field(default_factory=list)
    final_stage: str | None = None
    final_kind: str | None = None  # conversations: customer | dealer
    compared: bool = False
    differences: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    counted: list[int] = field(default_factory=list)  # positions of the counted messages

    def to_json(self) -> dict[str, Any]:
        """The ``--json`` output."""
        return {
            "stream": self.stream,
            "events": len(self.steps),
            "final_stage": self.final_stage,
            "compared_with_projection": self.compared,
            "differences": self.differences,
            "notes": self.notes,
            "steps": [s.to_json() for s in self.steps],
        }


Evolve = Callable[[Any, object], Any]


def machine_for(stream: str) -> tuple[Any, Evolve] | None:
    """The initial state and fold of the stream's state machine, if it has one."""
    if stream.startswith(CONVERSATION):
        key = stream.removeprefix(CONVERSATION)
        return ConversationState(key=key), evolve_conversation
    if stream.startswith(ORDER):
        return RelayState(relay_id=stream.removeprefix(ORDER)), evolve_relay
    return None


async def replay(
    store: EventStore, stream: str, *, until: Until | None = None, verbose: bool = False
) -> Replay:
    """Fold ``stream`` event by event; compare the end with its projected row."""
    import_all_events()
    limit = until or Until()
    stored = await read_stream(store.engines, stream, until=limit.position)
    limited = limit.position is not None or limit.time is not None
    rows = [r for r in stored if limit.keeps(r)] if limited else stored
    result = Replay(stream=stream)
    messages = _fold(result, rows, verbose=verbose)
    if not rows:
        result.notes.append("the stream has no events")
    elif limited:
        result.notes.append("stopped early (--until): not compared with the projections")
    elif stream.startswith(CONVERSATION):
        await _compare(store, result, messages)
    else:
        result.notes.append("no projected table to compare this stream with")
    return result


def _fold(result: Replay, rows: list[RawEvent], *, verbose: bool) -> int:
    """Fill ``result.steps``; returns the messages the projection counts (in and out)."""
    machine = machine_for(result.stream)
    state, evolve = machine if machine is not None else (None, None)
    messages = 0
    steps = result.steps
    before = _stage(state)  # the stage after the previous event: computed once per event
    with gc_paused():  # thousands of small objects and no cycles (see the event store)
        for row in rows:
            try:
                payload = row.payload()
            except (EventDecodeError, ValueError) as exc:
                steps.append(_step(row, f"UNREADABLE: {exc}", before, changed=False))
                continue
            if evolve is not None:
                state = evolve(state, payload)
                after = _stage(state)
            else:
                after = None
            if isinstance(payload, COUNTED):
                messages += 1
                result.counted.append(row.position)
            data = encode_payload(payload) if verbose else None
            steps.append(_step(row, summarize(payload), after, changed=after != before, data=data))
            before = after
    result.final_stage = _stage(state)
    result.final_kind = getattr(getattr(state, "kind", None), "value", None)
    return messages


def _stage(state: Any) -> str | None:
    stage = getattr(state, "stage", None)
    if stage is None:
        return None
    text = _STAGE_TEXT.get(stage)
    if text is None:
        text = _STAGE_TEXT[stage] = str(stage.value)
    return text


_STAGE_TEXT: dict[Any, str] = {}  # stage member -> its value (enum attribute access is slow)


def _step(
    row: RawEvent, summary: str, stage: str | None, *, changed: bool, data: Any = None
) -> Step:
    return _new_step(
        row.position,
        row.version,
        row.recorded_at,
        row.type,
        summary,
        stage,
        changed and stage is not None,
        data,
    )


def _step_by_keywords(*values: Any) -> Step:
    names = [f.name for f in fields(Step)]
    return Step(**dict(zip(names, values, strict=True)))


# Step(...) in field order through its slots (a frozen dataclass's own __init__ costs
# several times more, and replay builds one per event): see events.base.fast_constructor.
_new_step: Callable[..., Step] = fast_constructor(Step) or _step_by_keywords


async def _compare(store: EventStore, result: Replay, messages: int) -> None:
    """The final fold against the live ``whatsapp_conversations`` row."""
    cid = conversation_id(result.stream)
    table = whatsapp_conversations
    async with store.engines.reader.connect() as conn:
        live = (await conn.execute(select(table).where(table.c.id == cid))).mappings().first()
        checkpoint = await store.load_checkpoint(f"projection:{table.name}", conn)
    result.compared = True
    if live is None:
        result.differences.append(f"whatsapp_conversations has no row {cid}")
        return
    stage = result.final_stage
    if checkpoint < result.steps[-1].position:
        # The projection has not caught up yet (a service starting, a backup taken while
        # serving): compare it with the fold as of its checkpoint, not with the end.
        result.notes.append(
            f"the projection is at position {checkpoint}, before this stream's last event;"
            " compared with the fold up to there"
        )
        seen = [s for s in result.steps if s.position <= checkpoint]
        stage = seen[-1].stage if seen else None
        messages = sum(1 for p in result.counted if p <= checkpoint)
    expected = {
        "stage": stage,
        "message_count": messages,
        "conversation_type": result.final_kind,
    }
    for column, value in expected.items():
        if live[column] != value:
            result.differences.append(f"{column}: projected {live[column]!r}, replay {value!r}")


def lines(result: Replay) -> list[str]:
    """The timeline for a terminal, one line per event, then the comparison."""
    out = [f"replay {result.stream}: {len(result.steps)} events"]
    for s in result.steps:
        when = s.recorded_at.strftime("%Y-%m-%d %H:%M:%S")
        stage = "" if s.stage is None else f"  -> {s.stage}{' *' if s.changed else ''}"
        out.append(f"{s.position:>8}  {when}  {s.type:<34} {s.summary}{stage}")
        if s.data is not None:
            out.append(f"{'':>10}{s.data}")
    out.append(f"final stage: {result.final_stage or '-'}")
    out += [f"note: {n}" for n in result.notes]
    if result.compared:
        out += [f"DIFF {d}" for d in result.differences] or ["matches the projected row"]
    return out
