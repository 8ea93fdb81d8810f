"""Facts about the LLM models the service is configured with, in the ``assistant-models`` stream.

What the server said of each model (``GET /v1/models``, or a one-token probe on servers
without that endpoint), a model that answered "not found" in the middle of a turn, and
the operator alerts raised from these (once per model per day). Which model answered a
given turn is in that turn's trace (``MessageUnderstood.trace.model``,
``ReplyGenerated.model``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from events.base import event

MODELS_STREAM = "assistant-models"


@dataclass(frozen=True, slots=True, kw_only=True)
class ModelStatus:
    """One configured model as the server described it on the day of the check."""

    model: str
    listed: bool  # the server knows the name (listed, or the probe answered)
    shutdown_date: str | None  # YYYY-MM-DD, None when the server gave no date
    days_left: int | None  # from the check's day; negative once past
    verdict: str  # ok | shutdown_soon | retired | unknown
    note: str | None = None  # a malformed date the server sent, ...


@event
@dataclass(frozen=True, slots=True, kw_only=True)
class ModelsChecked:
    """The configured models were checked against the server (at start-up and daily)."""

    TYPE: ClassVar[str] = "assistant.models_checked"
    VERSION: ClassVar[int] = 1

    day: str  # YYYY-MM-DD (UTC) of the check
    method: str  # list (GET /v1/models) | probe (one-token request per model)
    models: tuple[ModelStatus, ...]
    error: str | None = None  # the check failed: nothing was learnt


@event
@dataclass(frozen=True, slots=True, kw_only=True)
class ModelFellThrough:
    """A request to ``model`` was answered "model not found": the chain moved on."""

    TYPE: ClassVar[str] = "assistant.model_fell_through"
    VERSION: ClassVar[int] = 1

    model: str
    day: str  # YYYY-MM-DD (UTC)
    error: str  # the server's answer, shortened


@event
@dataclass(frozen=True, slots=True, kw_only=True)
class ModelAlerted:
    """A configured model needs a person: it shuts down soon, is retired, or is unknown.

    Raised at most once per model per day; it opens a review-queue item of kind
    ``operator_alert``, counts in ``dloop_operator_alerts{code="model"}`` and comes with a
    push to support, like the WhatsApp operator alert.
    """

    TYPE: ClassVar[str] = "assistant.model_alerted"
    VERSION: ClassVar[int] = 1

    model: str
    reason: str  # shutdown_soon | retired | unknown
    day: str  # YYYY-MM-DD (UTC)
    shutdown_date: str | None = None
    days_left: int | None = None
