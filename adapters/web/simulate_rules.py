"""The input rules of ``POST /simulate``, stated once and enforced before anything is ingested.

WhatsApp caps a text message at 4,096 characters, so the simulator refuses longer texts
instead of recording something Meta would never deliver. ``wait`` is a number of seconds
from 0 to 30. A broken rule is answered 422 with the field it concerns; the OpenAPI
document (``adapters/web/api/openapi_simulate.py``) quotes the same constants.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

MAX_WAIT_SECONDS = 30
MAX_TEXT_CHARS = 4096  # WhatsApp's own limit for a text message body


class SimulateInputError(ValueError):
    """One rule broken: ``field`` names the input, ``message`` says what is allowed."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message

    def to_json(self) -> dict[str, Any]:
        """The 422 body."""
        return {"error": self.message, "field": self.field, "status": 422}


def parse_wait(query: Mapping[str, str]) -> float:
    """Seconds to wait for replies (0 when absent); raises :class:`SimulateInputError`."""
    raw = query.get("wait")
    if raw is None:
        return 0.0
    allowed = f"wait must be a number of seconds from 0 to {MAX_WAIT_SECONDS}, got {raw[:40]!r}"
    try:
        value = float(raw)
    except ValueError:
        raise SimulateInputError("wait", allowed) from None
    if not math.isfinite(value) or not 0 <= value <= MAX_WAIT_SECONDS:
        raise SimulateInputError("wait", allowed)
    return value


def check_text(field: str, text: str) -> None:
    """Refuse a text longer than WhatsApp allows; raises :class:`SimulateInputError`."""
    if len(text) > MAX_TEXT_CHARS:
        raise SimulateInputError(
            field, f"{field} must be at most {MAX_TEXT_CHARS} characters, got {len(text)}"
        )


def check_meta_texts(document: Mapping[str, Any]) -> None:
    """Apply :func:`check_text` to every text message of a full Meta body."""
    for e, entry in _items(document.get("entry")):
        for c, change in _items(entry.get("changes")):
            value = change.get("value")
            messages = value.get("messages") if isinstance(value, dict) else None
            for m, message in _items(messages):
                text = message.get("text")
                body = text.get("body") if isinstance(text, dict) else None
                if isinstance(body, str):
                    path = f"entry[{e}].changes[{c}].value.messages[{m}].text.body"
                    check_text(path, body)


def _items(value: Any) -> list[tuple[int, dict[str, Any]]]:
    if not isinstance(value, list):
        return []
    return [(i, item) for i, item in enumerate(value) if isinstance(item, dict)]
