"""structlog, configured once: JSON in production, console in a terminal.

A processor masks phone numbers (``+39******464``) wherever they appear in a log line
and drops message text and secrets, so that personal data never reaches the logs.

Libraries log through the standard library. Those whose debug lines carry query
parameters or request bodies (the database drivers, SQLAlchemy's echo, the OpenAI SDK
and its HTTP client) stay at WARNING whatever ``LOG_LEVEL`` says, and every standard
library line has its phone numbers masked as well (:class:`MaskPhonesFilter`).
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

# An E.164 number or a bare international number of 8-15 digits (Meta's wa_id form).
_PHONE = re.compile(r"(?<![\w.])\+?(\d{2})\d{4,10}(\d{3})(?!\d)")
_DROPPED_KEYS = frozenset(
    {"text", "body", "content", "message_text", "raw", "raw_body", "caption", "profile_name"}
)
_SECRET_KEYS = re.compile(r"(secret|token|password|authorization|api_key|apikey)", re.I)


# Loggers whose DEBUG/INFO lines print SQL parameters or HTTP bodies: raw webhooks,
# phone numbers and customers' words would reach the logs through them.
DATA_DUMPING_LOGGERS = (
    "aiosqlite",
    "asyncpg",
    "sqlalchemy.engine",
    "sqlalchemy.pool",
    "openai",
    "httpx",
    "httpcore",
    "aiohttp.access",
    "aiohttp.client",
)


def mask_phones(text: str) -> str:
    """Replace every phone-like number in ``text`` by ``+CC******NNN``."""
    return _PHONE.sub(lambda m: f"+{m.group(1)}******{m.group(2)}", text)


def redact(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """structlog processor: drop text and secrets, mask phone numbers everywhere."""
    for key in list(event_dict):
        if key in _DROPPED_KEYS:
            event_dict[key] = "[dropped]"
        elif _SECRET_KEYS.search(key):
            event_dict[key] = "[secret]"
        else:
            event_dict[key] = _mask_value(event_dict[key])
    return event_dict


def _mask_value(value: Any) -> Any:
    if isinstance(value, str):
        return mask_phones(value)
    if isinstance(value, dict):
        return {k: "[dropped]" if k in _DROPPED_KEYS else _mask_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_mask_value(v) for v in value]
    return value


class MaskPhonesFilter(logging.Filter):
    """Masks phone numbers in a standard library record's rendered message."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Render the message once, masked; never drops a record."""
        message = record.getMessage()
        masked = mask_phones(message)
        if masked != message or record.args:
            record.msg, record.args = masked, None
        return True


def _stderr_logger(*_args: Any) -> structlog.PrintLogger:
    """A logger on whatever ``sys.stderr`` is now (tests swap it, and close the old one)."""
    return structlog.PrintLogger(sys.stderr)


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """A stdlib handler writing to the current ``sys.stderr``, not the one at setup."""

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _value: Any) -> None:
        pass


def configure_logging(level: str = "info", fmt: str | None = None) -> None:
    """Configure structlog and the stdlib root logger; safe to call more than once."""
    use_json = fmt == "json" or (fmt is None and not sys.stderr.isatty())
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if use_json
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    numeric = logging.getLevelNamesMapping().get(level.upper(), logging.INFO)
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            redact,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=_stderr_logger,
        cache_logger_on_first_use=False,
    )
    stderr = _StderrHandler()
    stderr.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
    logging.basicConfig(level=numeric, handlers=[stderr])
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, MaskPhonesFilter) for f in handler.filters):
            handler.addFilter(MaskPhonesFilter())
    for name in DATA_DUMPING_LOGGERS:
        logging.getLogger(name).setLevel(max(numeric, logging.WARNING))
