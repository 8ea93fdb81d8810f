"""Settings: the one place that reads the environment (DESIGN.md section 7).

Every variable is documented in the README's configuration table and in
``.env.example``; a ``.env`` file in the current folder is read too, under the process
environment (``adapters/dotenv.py``). Parsing errors name the variable and say what
was expected, in one line.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from adapters.dotenv import DotenvError, environment
from core.area import AreaError, parse_area
from core.models import DEFAULT_CHAT_MODELS, DEFAULT_TRANSCRIPTION_MODELS, ChainError, parse_chain
from core.partitions import DEFAULT_PARTITIONS, MAX_PARTITIONS


class SettingsError(ValueError):
    """An environment variable has a value we cannot use."""


DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///var/dloop.db"
PLACEHOLDER = "CHANGE-ME"  # what deploy/dloop.env.example holds where a value must be chosen


@dataclass(frozen=True, slots=True, kw_only=True)
class Settings:
    """Typed configuration; build it with :func:`load_settings`."""

    host: str = "127.0.0.1"
    port: int = 8080
    database_url: str = DEFAULT_DATABASE_URL
    environment: str = "development"  # "development" | "production"
    role: str = "all"  # "all" | "web" (webhook and API only) | "worker" (reactors, no HTTP)
    event_loop: str = "uvloop"  # "uvloop" | "asyncio": serve's event loop (ADR 0021)
    serve_split: bool = False  # SQLite `serve` as "all": a web process plus a worker child
    ingest_max_pending: int = 1024  # deliveries waiting for the group commit; more: 503
    event_partitions: int = DEFAULT_PARTITIONS  # fixed per database (migration 14, ADR 0018)
    whatsapp_verify_token: str | None = None
    whatsapp_app_secret: str | None = field(default=None, repr=False)
    whatsapp_access_token: str | None = field(default=None, repr=False)
    whatsapp_phone_number_id: str | None = None
    whatsapp_api_base: str = "https://graph.facebook.com"
    whatsapp_api_version: str = "v25.0"
    whatsapp_messages_per_second: float = 80.0  # Cloud API throughput per business number
    whatsapp_timeout: float = 10.0  # seconds per Graph API call; beyond it: outcome unknown
    whatsapp_pair_interval: float = 6.0  # seconds per message to one person (0: off)
    whatsapp_pair_burst: int = 3  # messages to one person that may go out together
    send_retry_horizon: float = 3600.0  # transient send failures retried this long, then review
    send_retry_cap: float = 300.0  # the longest wait between two durable retries
    state_cache_streams: int = 5000  # streams whose folded state each reactor keeps
    openai_api_key: str | None = field(default=None, repr=False)
    openai_base_url: str | None = None
    llm_model: str = DEFAULT_CHAT_MODELS  # "primary,fallback,...": see core/models.py
    llm_transcription_model: str = DEFAULT_TRANSCRIPTION_MODELS
    llm_vision_model: str = DEFAULT_CHAT_MODELS
    llm_temperature: float = 0.7
    llm_max_tokens: int = 150
    llm_timeout: float = 20.0
    llm_max_retries: int = 3
    llm_requests_per_minute: int = 3500
    llm_http_client: str = "aiohttp"  # "aiohttp" | "httpx": the OpenAI SDK's transport (ADR 0021)
    debounce_seconds: float = 1.5
    log_level: str = "info"
    log_format: str | None = None  # "json" | "console"; None: console on a TTY
    simulate_enabled: bool = True
    dashboard_token: str | None = field(default=None, repr=False)
    max_body_bytes: int = 4 * 1024 * 1024
    catalog_file: Path | None = None
    market_api_url: str | None = None
    market_webhook_secret: str | None = field(default=None, repr=False)
    market_retry_seconds: float = 30.0
    fcm_project_id: str | None = None
    fcm_credentials_file: Path | None = None
    fcm_api_base: str | None = None
    fcm_token_uri: str | None = None
    order_confirmation_minutes: float = 30.0
    dealer_reminder_minutes: float = 10.0
    opening_hours: str = "lun-sab 9:00-20:00"
    delivery_zones: str = "Milano centro"
    delivery_fee: str = "2,90 €"
    body_read_timeout: float = 10.0  # seconds to receive a webhook body (slow clients: 408)
    ready_max_lag: int = 10_000  # /readyz fails when a subscriber is further behind
    shutdown_grace: float = 20.0  # seconds SIGTERM waits for requests, then for reactors
    # Media (issue 18); the media model chains are LLM_TRANSCRIPTION_MODEL / LLM_VISION_MODEL.
    media_max_audio_bytes: int = 16 * 1024 * 1024
    media_max_image_bytes: int = 5 * 1024 * 1024
    delivery_area: str | None = None  # "lat,lon,radius" (e.g. 45.4642,9.1900,5km)


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Read :class:`Settings` from ``env`` (default: ``./.env`` under the process environment)."""
    if env is None:
        try:
            env = environment()
        except DotenvError as exc:
            raise SettingsError(str(exc)) from None
    production = _get(env, "DLOOP_ENV", "development") == "production"
    return Settings(
        host=_get(env, "HOST", "127.0.0.1"),
        port=_int(env, "PORT", 8080, low=0, high=65535),
        database_url=_get(env, "DATABASE_URL", DEFAULT_DATABASE_URL),
        environment="production" if production else "development",
        role=_choice(env, "DLOOP_ROLE", "all", ("all", "web", "worker")),
        event_loop=_choice(env, "EVENT_LOOP", "uvloop", ("uvloop", "asyncio")),
        serve_split=_bool(env, "SERVE_SPLIT", False),
        ingest_max_pending=_int(env, "INGEST_MAX_PENDING", 1024, low=1, high=1_000_000),
        event_partitions=_int(
            env, "DLOOP_PARTITIONS", DEFAULT_PARTITIONS, low=1, high=MAX_PARTITIONS
        ),
        whatsapp_verify_token=_opt(env, "WHATSAPP_VERIFY_TOKEN"),
        whatsapp_app_secret=_opt(env, "WHATSAPP_APP_SECRET"),
        whatsapp_access_token=_opt(env, "WHATSAPP_ACCESS_TOKEN"),
        whatsapp_phone_number_id=_opt(env, "WHATSAPP_PHONE_NUMBER_ID"),
        whatsapp_api_base=_get(env, "WHATSAPP_API_BASE", "https://graph.facebook.com").rstrip("/"),
        whatsapp_api_version=_get(env, "WHATSAPP_API_VERSION", "v25.0"),
        whatsapp_messages_per_second=_float(
            env, "WHATSAPP_MESSAGES_PER_SECOND", 80.0, low=1.0, high=1000.0
        ),
        whatsapp_timeout=_float(env, "WHATSAPP_TIMEOUT", 10.0, low=0.1, high=120.0),
        whatsapp_pair_interval=_float(env, "WHATSAPP_PAIR_INTERVAL", 6.0, low=0.0, high=60.0),
        whatsapp_pair_burst=_int(env, "WHATSAPP_PAIR_BURST", 3, low=1, high=45),
        send_retry_horizon=_float(env, "SEND_RETRY_HORIZON", 3600.0, low=0.0, high=86400.0),
        send_retry_cap=_float(env, "SEND_RETRY_CAP", 300.0, low=0.01, high=3600.0),
        state_cache_streams=_int(env, "STATE_CACHE_STREAMS", 5000, low=1, high=10_000_000),
        openai_api_key=_opt(env, "OPENAI_API_KEY"),
        openai_base_url=_opt(env, "OPENAI_BASE_URL"),
        llm_model=(chat := _models(env, "LLM_MODEL", DEFAULT_CHAT_MODELS)),
        llm_transcription_model=_models(
            env, "LLM_TRANSCRIPTION_MODEL", DEFAULT_TRANSCRIPTION_MODELS
        ),
        llm_vision_model=_models(env, "LLM_VISION_MODEL", chat),
        llm_temperature=_float(env, "LLM_TEMPERATURE", 0.7, low=0.0, high=2.0),
        llm_max_tokens=_int(env, "LLM_MAX_TOKENS", 150, low=16, high=4096),
        llm_timeout=_float(env, "LLM_TIMEOUT", 20.0, low=1.0, high=300.0),
        llm_max_retries=_int(env, "LLM_MAX_RETRIES", 3, low=0, high=10),
        llm_requests_per_minute=_int(env, "LLM_REQUESTS_PER_MINUTE", 3500, low=1, high=1_000_000),
        llm_http_client=_choice(env, "LLM_HTTP_CLIENT", "aiohttp", ("aiohttp", "httpx")),
        debounce_seconds=_float(env, "DEBOUNCE_SECONDS", 1.5, low=0.0, high=10.0),
        log_level=_get(env, "LOG_LEVEL", "info").lower(),
        log_format=_opt(env, "LOG_FORMAT"),
        simulate_enabled=_bool(env, "SIMULATE_ENABLED", not production),
        dashboard_token=_opt(env, "DASHBOARD_TOKEN"),
        max_body_bytes=_int(
            env, "MAX_BODY_BYTES", 4 * 1024 * 1024, low=1024, high=64 * 1024 * 1024
        ),
        catalog_file=Path(p) if (p := _opt(env, "CATALOG_FILE")) else None,
        market_api_url=_opt(env, "MARKET_API_URL"),
        market_webhook_secret=_opt(env, "MARKET_WEBHOOK_SECRET"),
        market_retry_seconds=_float(env, "MARKET_RETRY_SECONDS", 30.0, low=0.01, high=3600.0),
        fcm_project_id=_opt(env, "FCM_PROJECT_ID"),
        fcm_credentials_file=Path(f) if (f := _opt(env, "FCM_CREDENTIALS_FILE")) else None,
        fcm_api_base=_opt(env, "FCM_API_BASE"),
        fcm_token_uri=_opt(env, "FCM_TOKEN_URI"),
        order_confirmation_minutes=_float(
            env, "ORDER_CONFIRMATION_MINUTES", 30.0, low=0.001, high=7 * 24 * 60.0
        ),
        dealer_reminder_minutes=_float(
            env, "DEALER_REMINDER_MINUTES", 10.0, low=0.001, high=24 * 60.0
        ),
        opening_hours=_get(env, "DLOOP_OPENING_HOURS", "lun-sab 9:00-20:00"),
        delivery_zones=_get(env, "DLOOP_DELIVERY_ZONES", "Milano centro"),
        delivery_fee=_get(env, "DLOOP_DELIVERY_FEE", "2,90 €"),
        body_read_timeout=_float(env, "BODY_READ_TIMEOUT", 10.0, low=0.1, high=300.0),
        ready_max_lag=_int(env, "READY_MAX_LAG", 10_000, low=1, high=10**9),
        shutdown_grace=_float(env, "SHUTDOWN_GRACE_SECONDS", 20.0, low=0.5, high=600.0),
        **_media(env),
    )


def _media(env: Mapping[str, str]) -> dict[str, Any]:
    """The media settings (issue 18), kept apart so other settings merge cleanly."""
    area = _opt(env, "DLOOP_DELIVERY_AREA")
    if area is not None:
        try:
            parse_area(area)
        except AreaError as exc:
            raise SettingsError(f"DLOOP_DELIVERY_AREA: {exc}") from None
    cap = 100 * 1024 * 1024  # Meta's largest media
    return {
        "media_max_audio_bytes": _int(
            env, "MEDIA_MAX_AUDIO_BYTES", 16 * 1024 * 1024, low=1024, high=cap
        ),
        "media_max_image_bytes": _int(
            env, "MEDIA_MAX_IMAGE_BYTES", 5 * 1024 * 1024, low=1024, high=cap
        ),
        "delivery_area": area,
    }


def _get(env: Mapping[str, str], name: str, default: str) -> str:
    return _opt(env, name) or default


def _opt(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name, "").strip()
    if PLACEHOLDER in value:  # a production file copied and not finished (docs/deploy.md 2.3)
        raise SettingsError(
            f"{name} still holds {PLACEHOLDER} from deploy/dloop.env.example: choose its value"
        )
    return value or None


def _models(env: Mapping[str, str], name: str, default: str) -> str:
    """A model chain ``"primary,fallback"``, normalised; empty lists and duplicates refused."""
    raw = env.get(name, "")
    if not raw.strip():
        return default  # unset or blank, like every other setting
    try:
        return ",".join(parse_chain(raw))
    except ChainError as exc:
        raise SettingsError(f"{name} {exc}: give model names separated by commas") from None


def _int(env: Mapping[str, str], name: str, default: int, *, low: int, high: int) -> int:
    raw = _opt(env, name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, got {raw!r}") from None
    if not low <= value <= high:
        raise SettingsError(f"{name} must be between {low} and {high}, got {value}")
    return value


def _float(env: Mapping[str, str], name: str, default: float, *, low: float, high: float) -> float:
    raw = _opt(env, name)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number, got {raw!r}") from None
    if not low <= value <= high:
        raise SettingsError(f"{name} must be between {low} and {high}, got {value}")
    return value


def _choice(env: Mapping[str, str], name: str, default: str, options: tuple[str, ...]) -> str:
    value = _get(env, name, default).lower()
    if value not in options:
        raise SettingsError(f"{name} must be one of {', '.join(options)}, got {value!r}")
    return value


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = _opt(env, name)
    if raw is None:
        return default
    if raw.lower() in {"1", "true", "yes", "on"}:
        return True
    if raw.lower() in {"0", "false", "no", "off"}:
        return False
    raise SettingsError(f"{name} must be true or false, got {raw!r}")
