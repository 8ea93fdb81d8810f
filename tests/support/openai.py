"""What the tests tell the fake OpenAI server: a structured reading as the model writes it."""

from __future__ import annotations

from typing import Any


def reading(**overrides: Any) -> dict[str, Any]:
    """A structured answer as the model writes it (every field present)."""
    base: dict[str, Any] = {
        "intent": "order_request",
        "confidence": 0.9,
        "cart": [],
        "unresolved": [],
        "products": [],
        "topic": "none",
        "delivery": {"address": "", "when": "", "payment": "none"},
    }
    return base | overrides
