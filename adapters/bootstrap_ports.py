"""The composition root's builders: which implementation of each port the settings pick.

Part of the composition root with :mod:`adapters.bootstrap` (import-linter and
``tests/unit/test_composition_root.py`` let only these two modules build concrete
adapters): the assistant (OpenAI with the offline twin as fallback, or the offline twin),
the messenger (the Graph API, or the sandbox), the market (HTTP, or the local table) and
push (FCM, or recorded only).
"""

from __future__ import annotations

import json
from pathlib import Path

import aiohttp
from openai import AsyncOpenAI

from adapters.assistant.budget import RequestBudget
from adapters.assistant.cache import ReplyCache
from adapters.assistant.offline import OfflineAssistant
from adapters.assistant.openai_assistant import OpenAIAssistant, build_openai_client
from adapters.assistant.resilient import FailureCollector, ResilientAssistant
from adapters.market.http import HttpMarketOrders
from adapters.market.local import LocalMarketOrders
from adapters.meta.graph import GraphMessenger
from adapters.meta.sandbox import SandboxMessenger
from adapters.notify.fcm import DEFAULT_API_BASE, FcmClient
from adapters.settings import Settings
from adapters.store.engine import Engines
from core.ports import Assistant, MarketOrders, Messenger


def build_messenger(
    settings: Settings, sandbox: SandboxMessenger
) -> tuple[Messenger, aiohttp.ClientSession | None]:
    """The Graph API messenger with its session when WhatsApp credentials are set, else
    ``sandbox`` (no session)."""
    s = settings
    if not (s.whatsapp_access_token and s.whatsapp_phone_number_id):
        return sandbox, None
    http = aiohttp.ClientSession()
    graph = GraphMessenger(
        http,
        base_url=s.whatsapp_api_base,
        api_version=s.whatsapp_api_version,
        phone_number_id=s.whatsapp_phone_number_id,
        access_token=s.whatsapp_access_token,
        timeout=s.whatsapp_timeout,
    )
    return graph, http


class AssistantUnavailableError(RuntimeError):
    """The OpenAI assistant was asked for without ``OPENAI_API_KEY``."""


def openai_client(settings: Settings) -> AsyncOpenAI:
    """The OpenAI SDK client from settings: its timeout and retries are the only ones."""
    if not settings.openai_api_key:
        raise AssistantUnavailableError(
            "OPENAI_API_KEY is not set: the offline twin serves instead"
        )
    return build_openai_client(
        api_key=settings.openai_api_key,
        base_url=settings.openai_base_url,
        timeout=settings.llm_timeout,
        max_retries=settings.llm_max_retries,
        http=settings.llm_http_client,
    )


def build_openai_assistant(settings: Settings) -> OpenAIAssistant:
    """The OpenAI-backed assistant from settings (the SDK retries; no loop of ours)."""
    return OpenAIAssistant(
        openai_client(settings),
        model=settings.llm_model,
        temperature=settings.llm_temperature,
        max_completion_tokens=settings.llm_max_tokens,
        budget=RequestBudget(per_minute=settings.llm_requests_per_minute),
        cache=ReplyCache(),
    )


def build_assistant(
    settings: Settings,
    failures: FailureCollector | None = None,
    primary: OpenAIAssistant | None = None,
) -> Assistant:
    """OpenAI with the offline twin as fallback when a key is set; the offline twin otherwise.

    Failures the fallback covers are reported to ``failures`` (the conversation reactor
    records them for the review queue). ``primary``: an OpenAI assistant built already.
    """
    if not settings.openai_api_key:
        return OfflineAssistant()
    on_failure = failures.report if failures is not None else None
    return ResilientAssistant(
        primary or build_openai_assistant(settings), OfflineAssistant(), on_failure=on_failure
    )


def build_market(settings: Settings, engines: Engines, http: aiohttp.ClientSession) -> MarketOrders:
    """The HTTP market adapter when ``MARKET_API_URL`` is set, else the local table."""
    if settings.market_api_url:
        return HttpMarketOrders(http, settings.market_api_url)
    return LocalMarketOrders(engines)


def build_push(settings: Settings, http: aiohttp.ClientSession) -> FcmClient | None:
    """The FCM client, or None (notifications recorded only) without credentials."""
    if not (settings.fcm_project_id and settings.fcm_credentials_file):
        return None
    account = json.loads(Path(settings.fcm_credentials_file).read_text(encoding="utf-8"))
    return FcmClient(
        http,
        project_id=settings.fcm_project_id,
        service_account=account,
        api_base=settings.fcm_api_base or DEFAULT_API_BASE,
        token_uri=settings.fcm_token_uri,
    )
