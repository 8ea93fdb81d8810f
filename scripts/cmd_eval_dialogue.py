"""``dloop-bot eval-dialogue``: replay multi-turn dialogues through the service, score them.

Thin: parses the file and the options, then :func:`adapters.dialogue_eval.run_dialogues`
plays them on a fresh store and prints the JSON report (dialogues passed, turns passed,
every failing turn with what was sent and answered).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from adapters.bootstrap_ports import AssistantUnavailableError, build_openai_assistant
from adapters.dialogue_eval import run_dialogues
from adapters.settings import SettingsError, load_settings
from core.dialogues import DialogueFormatError, parse_dialogues
from core.ports import Assistant

ROME = ZoneInfo("Europe/Rome")
DEFAULT_NOW = "2026-12-02T11:00:00"  # a Wednesday, 11:00 in Rome: inside opening hours


def register(subparsers: Any) -> None:
    """Add the ``eval-dialogue`` subcommand."""
    parser = subparsers.add_parser(
        "eval-dialogue", help="replay multi-turn dialogues through the service and score them"
    )
    parser.add_argument("--data", required=True, type=Path, help="dialogues JSON file")
    parser.add_argument("--engine", choices=("offline", "openai"), default="offline")
    parser.add_argument(
        "--now",
        default=DEFAULT_NOW,
        help="the service's clock at the start, ISO 8601 (no offset: Europe/Rome); "
        f"default {DEFAULT_NOW}, a Wednesday",
    )
    parser.set_defaults(func=run)


def parse_now(text: str) -> datetime:
    """``--now`` as an aware datetime (Europe/Rome when no offset is given)."""
    value = datetime.fromisoformat(text)
    return value if value.tzinfo is not None else value.replace(tzinfo=ROME)


def _assistant(engine: str) -> Assistant | None:
    """None for the offline default; the OpenAI assistant (no fallback) for ``openai``."""
    return None if engine == "offline" else build_openai_assistant(load_settings())


def run(args: argparse.Namespace) -> int:
    """Play the file and print the report; 2 when the file, clock or engine is unusable."""
    try:
        now = parse_now(args.now)
        dialogues = parse_dialogues(json.loads(args.data.read_text(encoding="utf-8")))
        assistant = _assistant(args.engine)
        settings = load_settings({}) if args.engine == "offline" else load_settings()
    except (ValueError, OSError, DialogueFormatError) as exc:
        print(f"eval-dialogue: {exc}", file=sys.stderr)
        return 2
    except (AssistantUnavailableError, SettingsError) as exc:
        print(f"eval-dialogue: {exc}", file=sys.stderr)
        return 2
    report = asyncio.run(run_dialogues(dialogues, now=now, assistant=assistant, settings=settings))
    print(json.dumps(report, ensure_ascii=False, indent=2))
    return 0
