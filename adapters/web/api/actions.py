"""Agent actions on a conversation: take over, release, resolve, reply.

Each request folds the conversation stream, asks the pure
:func:`core.conversation.decide_agent_action`, and appends its events expecting the
version it read; when another writer got in first it reloads and decides again. A
refused move is a ``DomainError`` (409). A reply is a ``ReplyQueued`` with sender
``agent``: the outbox sender delivers it like any other, and outside the 24-hour window
the core refuses it (409 with a template hint).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from adapters.engine.conversation import stream_key
from adapters.store.types import StreamVersionConflictError
from adapters.web.api.common import PRINCIPAL, ApiError, Handler, json_response, only_params
from adapters.web.api.conversations import stream_of, visible_conversation
from adapters.web.keys import DEPS
from core.conversation import (
    AgentAction,
    AgentActionKind,
    ConversationState,
    decide_agent_action,
    fold,
)
from events.base import Metadata, NewEvent
from events.conversation import ReplyQueued

MAX_TEXT = 4096  # WhatsApp's limit for a text message body
ATTEMPTS = 3


def _ids() -> Iterator[str]:
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
        for _ in range(ATTEMPTS):
            try:
                result = await _decide_and_append(
                    request, await stream_of(request.app[DEPS].store, row), kind, agent, text
                )
            except StreamVersionConflictError:
                continue
            status = 202 if kind is AgentActionKind.REPLY else 200
            return json_response({"conversation_id": row["id"], **result}, status=status)
        raise ApiError(409, "the conversation kept changing; try again")

    handle.__doc__ = f"``POST /api/conversations/{{id}}/{kind.value.replace('_', '-')}``."
    return handle


async def _decide_and_append(
    request: web.Request, stream: str, kind: AgentActionKind, agent: str, text: str | None
) -> dict[str, Any]:
    store = request.app[DEPS].store
    history = await store.read_stream(stream)
    state = fold(ConversationState(key=stream_key(stream)), [e.payload for e in history])
    decided: list[Any] = decide_agent_action(
        state, AgentAction(kind=kind, agent=agent, text=text), datetime.now(UTC), _ids()
    )
    meta = Metadata(
        source="api",
        correlation_id=request.headers.get("X-Request-Id"),
        extra={"token_id": request[PRINCIPAL].id},
    )
    new = [NewEvent(event_id=uuid.uuid4(), payload=p, metadata=meta) for p in decided]
    appended: list[Any] = []
    if new:
        expected = history[-1].version if history else 0
        appended = list((await store.append(stream, expected, new)).appended)
    after = fold(state, decided)
    out: dict[str, Any] = {
        "stage": after.stage.value,
        "assignee": after.assignee,
        "events": [
            {"type": p.TYPE, "position": a.position, "version": a.version}
            for p, a in zip(decided, appended, strict=True)
        ],
    }
    queued = [p.outbound_id for p in decided if isinstance(p, ReplyQueued)]
    if queued:
        out["outbound_id"] = queued[0]
    return out
