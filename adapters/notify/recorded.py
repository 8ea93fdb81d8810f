"""A push client that keeps what it is given: the deterministic twin of :class:`FcmClient`.

It passes the same contract as the FCM client (``tests/contract/test_push_contract.py``):
bodies are shortened to FCM's 4 KB by the same rule, ``unregistered`` tokens raise
:class:`~core.ports.UnregisteredTokenError` and ``down`` raises
:class:`~core.ports.TransientError`. Tests script it instead of a server.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass

from adapters.notify.fcm import build_message
from core.ports import TransientError, UnregisteredTokenError


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordedPush:
    """One notification as it would have reached the device."""

    name: str
    token: str
    title: str
    body: str
    data: Mapping[str, str]


class RecordingPushClient:
    """:class:`core.ports.PushClient` that records instead of sending."""

    def __init__(self, *, project_id: str = "recorded") -> None:
        self.project_id = project_id
        self.sent: list[RecordedPush] = []
        self.unregistered: set[str] = set()
        self.down = False
        self._ids = itertools.count(1)

    async def send(self, token: str, *, title: str, body: str, data: Mapping[str, str]) -> str:
        """Record the notification; returns its message name (``projects/<p>/messages/<n>``)."""
        notification = build_message(token, title, body, data)["message"]["notification"]
        if self.down:
            raise TransientError("recorded push is switched off (down)")
        if token in self.unregistered:
            raise UnregisteredTokenError("the device token is unregistered")
        name = f"projects/{self.project_id}/messages/{next(self._ids)}"
        self.sent.append(
            RecordedPush(
                name=name,
                token=token,
                title=title,
                body=notification["body"],
                data={str(k): str(v) for k, v in data.items()},
            )
        )
        return name
