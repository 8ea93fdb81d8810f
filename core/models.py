"""Model chains and retirement rules, pure: which model to trust today and what to tell people.

A *chain* is an ordered list of model names (``"primary,fallback"``) read from
``LLM_MODEL``, ``LLM_TRANSCRIPTION_MODEL`` or ``LLM_VISION_MODEL``. The server's answer to
``GET /v1/models`` says, per model, whether it exists and its ``shutdown_date``
(``YYYY-MM-DD`` or null). These rules turn that answer into a verdict per model and into
operator alerts: a model shutting down within :data:`WARN_DAYS` days, a retired one, and an
unknown name. Today's date is passed in; nothing here reads the clock.

The defaults name models that OpenAI's documentation, as stored on 2026-12-05, lists
without a shutdown date (docs/adr/0016-model-chains.md says how they were chosen).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date

DEFAULT_CHAT_MODELS = "gpt-6-luna,gpt-6.1-terra"
DEFAULT_TRANSCRIPTION_MODELS = "gpt-transcribe"
WARN_DAYS = 30

# Verdicts of one model, from the best to the worst.
OK = "ok"
SHUTDOWN_SOON = "shutdown_soon"  # within WARN_DAYS days
RETIRED = "retired"  # past its shutdown date, or answered "model not found" mid-run
UNKNOWN = "unknown"  # the server does not list it
UNCHECKED = "unchecked"  # nothing asked (offline, or the check failed)
ALERTING = frozenset({SHUTDOWN_SOON, RETIRED, UNKNOWN})


class ChainError(ValueError):
    """A model list that cannot be used: empty, or naming a model twice."""


def parse_chain(raw: str) -> tuple[str, ...]:
    """The ordered model names of ``raw`` (comma-separated, blanks ignored).

    Raises :class:`ChainError` for a list with no name or with a name given twice (a
    duplicate would make the fallback retry the model that just failed).
    """
    names = tuple(part.strip() for part in raw.split(",") if part.strip())
    if not names:
        raise ChainError("names no model")
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise ChainError(f"names {name!r} twice")
        seen.add(name)
    return names


def parse_shutdown_date(raw: object) -> tuple[date | None, str | None]:
    """``(date, None)`` for a ``YYYY-MM-DD`` string, ``(None, None)`` for null/absent,
    ``(None, note)`` for anything else (the note says what the server sent)."""
    if raw is None or raw == "":
        return None, None
    if isinstance(raw, str) and len(raw) == 10:
        try:
            return date.fromisoformat(raw), None
        except ValueError:
            pass
    return None, f"malformed shutdown_date {str(raw)[:40]!r}"


@dataclass(frozen=True, slots=True, kw_only=True)
class ModelFacts:
    """What a check learnt of one model: listed or not, and its shutdown date."""

    model: str
    listed: bool
    shutdown: date | None = None
    note: str | None = None  # a malformed date, or how the model was checked
    not_found: bool = False  # a request answered "model not found" (retired mid-run)


def days_left(shutdown: date | None, today: date) -> int | None:
    """Days until ``shutdown`` (0 on the day itself, negative after); None without a date."""
    return None if shutdown is None else (shutdown - today).days


def verdict(facts: ModelFacts | None, today: date) -> str:
    """One of :data:`OK`, :data:`SHUTDOWN_SOON`, :data:`RETIRED`, :data:`UNKNOWN`,
    :data:`UNCHECKED` for a model on ``today``."""
    if facts is None:
        return UNCHECKED
    if facts.not_found:
        return RETIRED
    if not facts.listed:
        return UNKNOWN
    left = days_left(facts.shutdown, today)
    if left is None:
        return OK
    if left <= 0:
        return RETIRED
    return SHUTDOWN_SOON if left <= WARN_DAYS else OK


@dataclass(frozen=True, slots=True, kw_only=True)
class DueAlert:
    """An operator alert to raise now: which model, why, and its date if any."""

    model: str
    reason: str  # shutdown_soon | retired | unknown
    shutdown: date | None
    days_left: int | None


def due_alerts(
    facts: Mapping[str, ModelFacts], today: date, alerted_today: Iterable[str]
) -> list[DueAlert]:
    """Alerts for the checked models that need one and had none today (once per model per day)."""
    done = set(alerted_today)
    due: list[DueAlert] = []
    for model, known in facts.items():
        reason = verdict(known, today)
        if reason in ALERTING and model not in done:
            left = days_left(known.shutdown, today)
            due.append(
                DueAlert(model=model, reason=reason, shutdown=known.shutdown, days_left=left)
            )
    return due


def usable(chain: Sequence[str], facts: Mapping[str, ModelFacts], today: date) -> list[str]:
    """The models of ``chain`` worth trying today, in order.

    Retired and unknown models are left out; unchecked ones are kept. When nothing is
    left, the whole chain is returned: stale knowledge must not stop the service from
    trying (a failed request ends with the offline twin anyway).
    """
    alive = [m for m in chain if verdict(facts.get(m), today) not in (RETIRED, UNKNOWN)]
    return alive or list(chain)
