"""Conversation reads: the list, one conversation, its messages and its event timeline."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from adapters.readmodel.queries import ConversationFilter, NotFoundError
from adapters.store.event_store import EventStore
from adapters.web.api.common import (
    READ_MODEL,
    choice_param,
    int_param,
    json_response,
    only_params,
    scope_of,
    text_param,
)
from adapters.web.keys import DEPS
from core.conversation import Stage
from events.base import RecordedEvent
from events.codec import encode_payload
from projections.messages import conversation_id

MAX_PAGE = 200
MAX_TIMELINE = 1000
TYPES = ("customer", "dealer")


async def list_conversations(request: web.Request) -> web.Response:
    """``GET /api/conversations``: filtered, newest message first, cursor-paginated."""
    only_params(request, ("stage", "type", "assignee", "q", "attention", "limit", "cursor"))
    attention = choice_param(request, "attention", ("needed", "none"))
    filt = ConversationFilter(
        stage=choice_param(request, "stage", [s.value for s in Stage]),
        type=choice_param(request, "type", TYPES),
        assignee=text_param(request, "assignee"),
        q=text_param(request, "q", max_len=200),
        attention=None if attention is None else attention == "needed",
    )
    page = await request.app[READ_MODEL].conversations(
        scope_of(request),
        filt,
        limit=int_param(request, "limit", 50, 1, MAX_PAGE),
        cursor=request.query.get("cursor"),
    )
    return json_response({"items": page.items, "next_cursor": page.next_cursor})


async def list_triage(request: web.Request) -> web.Response:
    """``GET /api/triage``: conversations that need a person, longest waiting first."""
    only_params(request, ())
    items = await request.app[READ_MODEL].triage(scope_of(request))
    return json_response({"items": items})


async def visible_conversation(request: web.Request) -> dict[str, Any]:
    """The conversation named in the path, if the caller may see it (404/403 otherwise)."""
    cid = request.match_info["id"]
    return await request.app[READ_MODEL].conversation(scope_of(request), cid)


async def get_conversation(request: web.Request) -> web.Response:
    """``GET /api/conversations/{id}``."""
    only_params(request, ())
    return json_response(await visible_conversation(request))


async def list_messages(request: web.Request) -> web.Response:
    """``GET /api/conversations/{id}/messages``: oldest first, cursor-paginated."""
    only_params(request, ("limit", "cursor"))
    row = await visible_conversation(request)
    page = await request.app[READ_MODEL].messages(
        row["id"],
        limit=int_param(request, "limit", 100, 1, MAX_PAGE),
        cursor=request.query.get("cursor"),
    )
    return json_response({"items": page.items, "next_cursor": page.next_cursor})


async def stream_of(store: EventStore, row: dict[str, Any]) -> str:
    """The event stream behind a conversation row (its id is derived from the stream).

    Streams are named by the row's person id (or, for rows written before the person id
    had its column, the person id of its phone or BSUID), or by the phone itself for logs
    written before pseudonyms (docs/adr/0007-crypto-shredding.md).
    """
    person = row.get("person_id")
    if person and conversation_id(f"conversation-{person}") == row["id"]:
        return f"conversation-{person}"
    key = row.get("phone")
    if key:
        for subject in (key, f"bsuid:{key}"):
            person = await store.people.find(subject)
            candidates = [f"conversation-{subject}"]
            if person is not None:
                candidates.insert(0, f"conversation-{person}")
            for stream in candidates:
                if conversation_id(stream) == row["id"]:
                    return stream
    raise NotFoundError("this conversation has no known event stream")


def timeline_item(event: RecordedEvent) -> dict[str, Any]:
    """One event as the audit view shows it."""
    return {
        "position": event.position,
        "version": event.version,
        "type": event.type,
        "schema_version": event.schema_version,
        "recorded_at": event.recorded_at,
        "data": encode_payload(event.payload),
        "metadata": event.metadata.to_json(),
    }


async def timeline(request: web.Request) -> web.Response:
    """``GET /api/conversations/{id}/timeline``: every event of the stream, in order."""
    only_params(request, ("after", "limit"))
    after = int_param(request, "after", 0, 0, 2**31)
    limit = int_param(request, "limit", 500, 1, MAX_TIMELINE)
    row = await visible_conversation(request)
    stream = await stream_of(request.app[DEPS].store, row)
    history = await request.app[DEPS].store.read_stream(stream, after_version=after)
    shown = history[:limit]
    more = len(history) > limit
    return json_response(
        {
            "conversation_id": row["id"],
            "stream": stream,
            "events": [timeline_item(e) for e in shown],
            "next_after": shown[-1].version if more else None,
        }
    )
