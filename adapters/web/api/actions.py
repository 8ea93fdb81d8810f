"""Agent actions on a conversation: take over, release, resolve, reply.

Each request is run by the one runner (:func:`adapters.engine.runner.run`) with the
:data:`~core.agent_actions.AGENT_ACTIONS` decider: the conversation stream is folded,
the action decided and its events appended expecting the version folded; when another
writer got in first the runner reloads and decides again under the one conflict policy.
When that policy is exhausted the agent gets a 409 ("try again"): nothing was written.
A refused move is a ``DomainError`` (409). A reply is a ``ReplyQueued`` with sender
``agent``: the outbox sender delivers it like any other, and outside the 24-hour window
the core refuses it (409 with a template hint).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any, Never

from aiohttp import web

from adapters.engine.conflicts import ConflictsExhaustedError
from adapters.engine.runner import Process, run
from adapters.store.event_store import EventStore
from adapters.store.types import Appended
from adapters.web.api.common import PRINCIPAL, ApiError, Handler, json_response, only_params
from adapters.web.api.conversations import stream_of, visible_conversation
from adapters.web.keys import DEPS
from core.agent_actions import AGENT_ACTIONS, AgentAction, AgentActionKind, AgentEvent
from core.conversation import ConversationState
from events.base import Metadata, NewEvent
from events.conversation import ReplyQueued

MAX_TEXT = 4096  # WhatsApp's limit for a text message body


def _ids(_stream: str, _state: ConversationState, _action: AgentAction) -> Iterator[str]:
    while True:
        yield str(uuid.uuid4())


async def _reply_text(request: web.Request) -> str:
    try:
        body = json.loads(await request.read())
    except (ValueError, UnicodeDecodeError, RecursionError):  # deep nesting: not a 500
        raise ApiError(422, 'body must be JSON: {"text": "..."}') from None
    text = body.get("text") if isinstance(body, dict) else None
    if not isinstance(text, str) or not text.strip():
        raise ApiError(422, 'body must be {"text": "..."} with some text')
    if len(text) > MAX_TEXT:
        raise ApiError(422, f"text must be at most {MAX_TEXT} characters")
    return text


def action(kind: AgentActionKind) -> Handler:
    """The handler of one agent action."""

    async def handle(request: web.Request) -> web.Response:
        only_params(request, ())
        row = await visible_conversation(request)
        text = await _reply_text(request) if kind is AgentActionKind.REPLY else None
        agent = request[PRINCIPAL].agent
        store = request.app[DEPS].store
        stream = await stream_of(store, row)
        process, landed = agent_process(store, _metadata(request))
        try:
            ran = await run(process, stream, AgentAction(kind=kind, agent=agent, text=text))
        except ConflictsExhaustedError:
            raise ApiError(409, "the conversation kept changing; try again") from None
        status = 202 if kind is AgentActionKind.REPLY else 200
        result = _result(ran.after(AGENT_ACTIONS.evolve), ran.events, landed)
        return json_response({"conversation_id": row["id"], **result}, status=status)

    handle.__doc__ = f"``POST /api/conversations/{{id}}/{kind.value.replace('_', '-')}``."
    return handle


AgentProcess = Process[ConversationState, AgentAction, AgentEvent, Never]


def agent_process(store: EventStore, meta: Metadata) -> tuple[AgentProcess, list[Appended]]:
    """The agent-actions process on ``store`` (a full fold, an exact expected version),
    and the list its append fills with where the events landed."""
    landed: list[Appended] = []

    async def load(stream: str) -> tuple[ConversationState, int]:
        history = await store.read_stream(stream)
        state = AGENT_ACTIONS.fold(AGENT_ACTIONS.initial(stream), [e.payload for e in history])
        return state, history[-1].version if history else 0

    async def append(stream: str, version: int, events: tuple[AgentEvent, ...]) -> None:
        new = [NewEvent(event_id=uuid.uuid4(), payload=p, metadata=meta) for p in events]
        landed[:] = (await store.append(stream, version, new)).appended

    process: AgentProcess = Process(
        name="agent-action", decider=AGENT_ACTIONS, load=load, append=append, ids=_ids
    )
    return process, landed


def _metadata(request: web.Request) -> Metadata:
    return Metadata(
        source="api",
        correlation_id=request.headers.get("X-Request-Id"),
        extra={"token_id": request[PRINCIPAL].id},
    )


def _result(
    after: ConversationState, decided: tuple[AgentEvent, ...], landed: list[Appended]
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "stage": after.stage.value,
        "assignee": after.assignee,
        "events": [
            {"type": p.TYPE, "position": a.position, "version": a.version}
            for p, a in zip(decided, landed, strict=True)
        ],
    }
    queued = [p.outbound_id for p in decided if isinstance(p, ReplyQueued)]
    if queued:
        out["outbound_id"] = queued[0]
    return out
