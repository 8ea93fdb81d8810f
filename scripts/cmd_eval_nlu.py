"""``dloop-bot eval-nlu``: score an assistant against labelled Italian messages (JSONL).

Runs every line through an :class:`core.ports.Assistant` (the offline NLU, or later the
OpenAI adapter) and prints the report of :func:`core.nlu.evaluate.evaluate` as JSON.
``--data`` may be given several times: the report is then over all the files together,
and its ``files`` list gives each file's own figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import adapters
from adapters.assistant.offline import OfflineAssistant
from adapters.bootstrap_ports import AssistantUnavailableError, build_openai_assistant
from adapters.settings import SettingsError, load_settings
from core.catalog import Catalog, parse_catalog
from core.nlu.evaluate import Case, evaluate, figures, parse_jsonl
from core.ports import Assistant
from core.understanding import Understanding

DEFAULT_CATALOG = Path(adapters.__file__).parent / "data" / "catalog_demo.json"


def register(subparsers: Any) -> None:
    """Add the ``eval-nlu`` subcommand."""
    parser = subparsers.add_parser("eval-nlu", help="score the NLU on a JSONL data set")
    parser.add_argument(
        "--data",
        required=True,
        type=Path,
        action="append",
        help="JSONL file of labelled lines (repeat for several files)",
    )
    parser.add_argument("--catalog", type=Path, default=DEFAULT_CATALOG, help="catalogue JSON")
    parser.add_argument("--engine", choices=("offline", "openai"), default="offline")
    parser.set_defaults(func=run)


def build_assistant(engine: str) -> Assistant:
    """The assistant for ``engine`` (openai: from OPENAI_* settings, without fallback)."""
    if engine == "offline":
        return OfflineAssistant()
    return build_openai_assistant(load_settings())


async def understand_all(
    assistant: Assistant, cases: Sequence[Case], catalog: Catalog
) -> list[Understanding]:
    """What ``assistant`` understood of each case, in order, through the port."""
    results = []
    for case in cases:
        understood = await assistant.understand(case.text, history=(), catalog=catalog)
        results.append(understood.understanding)
    return results


def run(args: argparse.Namespace) -> int:
    """Evaluate and print the JSON report; 2 when the engine or files are unusable."""
    try:
        assistant = build_assistant(args.engine)
    except (AssistantUnavailableError, SettingsError) as exc:
        print(f"eval-nlu: {exc}", file=sys.stderr)
        return 2
    catalog = parse_catalog(json.loads(args.catalog.read_text(encoding="utf-8")))
    try:
        per_file = [(path, _read_cases(path)) for path in args.data]
    except ValueError as exc:
        print(f"eval-nlu: {exc}", file=sys.stderr)
        return 2
    cases = [case for _, file_cases in per_file for case in file_cases]
    results = asyncio.run(understand_all(assistant, cases, catalog))
    report = evaluate(cases, results).to_json()
    report["files"] = _per_file(per_file, results)
    print(json.dumps(report, ensure_ascii=False, indent=2))
    return 0


def _read_cases(path: Path) -> tuple[Case, ...]:
    """The labelled cases of one file; ``ValueError`` naming the file when unusable."""
    try:
        return parse_jsonl(path.read_text(encoding="utf-8").splitlines())
    except OSError as exc:
        raise ValueError(f"cannot read {path}: {exc.strerror or exc}") from exc
    except (ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"{path}: not a labelled JSONL file ({exc})") from exc


def _per_file(
    per_file: Sequence[tuple[Path, Sequence[Case]]], results: Sequence[Understanding]
) -> list[dict[str, Any]]:
    """Each file's own figures, from its slice of ``results``."""
    out = []
    start = 0
    for path, file_cases in per_file:
        own = results[start : start + len(file_cases)]
        start += len(file_cases)
        out.append({"data": str(path), **figures(evaluate(file_cases, own))})
    return out
