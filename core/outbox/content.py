"""What goes out for queued replies: the Graph API message of one, and which ones merge.

Meta accepts about one message every 6 s to one person (:mod:`core.pacing`), so
consecutive fresh text replies to the same recipient go out as one message (joined by a
blank line, up to 4,096 characters) instead of a burst. Anything else (buttons, lists,
templates, reactions, and a reply already attempted once, whose id Meta may know) goes
alone. A merged send carries the first reply's id.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Set

from core.outbound import (
    TEXT_MAX,
    Button,
    ButtonsMessage,
    ListMessage,
    OutboundContent,
    ReactionMessage,
    Row,
    Section,
    TemplateMessage,
    TextMessage,
    merge_texts,
)
from events.base import RecordedEvent
from events.conversation import ReplyKind, ReplyQueued

Group = tuple[RecordedEvent, ...]  # queued replies sent as one message; the first leads


def content_for(reply: ReplyQueued) -> OutboundContent:
    """The Graph API message for a queued reply (a list without rows degrades to text)."""
    if reply.kind is ReplyKind.LIST and reply.rows:
        return _list(reply)
    if reply.kind is ReplyKind.BUTTONS and reply.buttons:
        buttons = tuple(Button(id=b.id, title=b.title) for b in reply.buttons)
        return ButtonsMessage(body=reply.text, buttons=buttons)
    if reply.kind is ReplyKind.TEMPLATE:
        return TemplateMessage(
            name=reply.text, language="it", body_parameters=reply.template_params
        )
    if reply.kind is ReplyKind.REACTION and reply.in_reply_to:
        return ReactionMessage(message_id=reply.in_reply_to, emoji=reply.text)
    return TextMessage(body=reply.text)


def _list(reply: ReplyQueued) -> ListMessage:
    """Rows grouped into sections in order (consecutive rows of one section title)."""
    sections: list[tuple[str, list[Row]]] = []
    for r in reply.rows:
        if not sections or sections[-1][0] != r.section:
            sections.append((r.section, []))
        sections[-1][1].append(Row(id=r.id, title=r.title, description=r.description))
    return ListMessage(
        body=reply.text,
        button_text=reply.list_button or "Scegli",
        sections=tuple(Section(title=t, rows=tuple(rs)) for t, rs in sections),
    )


def group_content(group: Group) -> OutboundContent:
    """The one message a group goes out as: its reply's own, or the texts merged."""
    if len(group) == 1:
        return content_for(group[0].payload)
    return merge_texts([TextMessage(body=q.payload.text) for q in group])


def groups(
    replies: Iterable[RecordedEvent], done: Set[str], attempted: Set[str]
) -> Iterator[Group]:
    """Fresh consecutive texts to one recipient merge (up to 4096 chars); the rest go alone.

    Replies in ``done`` (an outcome is recorded) are skipped; replies in ``attempted``
    never merge (their first attempt named only them).
    """
    group: list[RecordedEvent] = []
    size = 0
    for q in replies:
        r: ReplyQueued = q.payload
        if r.outbound_id in done:
            continue
        mergeable = r.kind is ReplyKind.TEXT and r.outbound_id not in attempted
        fits = size + 2 + len(r.text) <= TEXT_MAX
        if group and mergeable and r.to == group[0].payload.to and fits:
            group.append(q)
            size += 2 + len(r.text)
            continue
        if group:
            yield tuple(group)
            group = []
        if mergeable:
            group, size = [q], len(r.text)
        else:
            yield (q,)
    if group:
        yield tuple(group)
