"""``python -m scripts.bench_llm_http``: CPU of one assistant call over each SDK transport.

The fake OpenAI API runs in its own process (so its work is not counted); this process
builds one client per transport (``LLM_HTTP_CLIENT``: ``httpx``, the SDK's own, and
``aiohttp``) and asks ``understand`` on each, in alternating rounds of concurrent calls,
so both see the same machine. The figure is this process's CPU (user + system, all
threads) per call; the ratio aiohttp / httpx is the A/B of ADR 0021.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from pathlib import Path

from adapters.assistant.openai_assistant import OpenAIAssistant, build_openai_client
from adapters.bootstrap import DEMO_CATALOG
from core.catalog import parse_catalog
from scripts.bench_e2e import Child, _wait_port, free_port

TRANSPORTS = ("httpx", "aiohttp")


async def _round(assistant: OpenAIAssistant, calls: int, concurrency: int) -> float:
    """CPU seconds for ``calls`` understandings, ``concurrency`` at a time."""
    catalog = parse_catalog(json.loads(DEMO_CATALOG.read_text(encoding="utf-8")))
    gate = asyncio.Semaphore(concurrency)

    async def one() -> None:
        async with gate:
            await assistant.understand("Ciao! Come state oggi?", history=(), catalog=catalog)

    started = time.process_time()
    await asyncio.gather(*(one() for _ in range(calls)))
    return time.process_time() - started


async def _bench(args: argparse.Namespace) -> dict[str, float]:
    port = free_port()
    log = Path(os.environ.get("TMPDIR", "/tmp")) / "bench-llm-http-openai.log"  # noqa: S108
    argv = [sys.executable, "-m", "adapters.fakes.openai_server", "--port", str(port)]
    fake = await Child.start(argv, os.environ, log)
    try:
        await _wait_port(port)
        base = f"http://127.0.0.1:{port}/v1"
        assistants = {
            t: OpenAIAssistant(build_openai_client(api_key="sk-bench", base_url=base, http=t))
            for t in TRANSPORTS
        }
        cpu = dict.fromkeys(TRANSPORTS, 0.0)
        for t in TRANSPORTS:  # warm-up: connections, imports, schema
            await _round(assistants[t], 20, args.concurrency)
        for _ in range(args.rounds):
            for t in TRANSPORTS:
                cpu[t] += await _round(assistants[t], args.calls, args.concurrency)
        for assistant in assistants.values():
            await assistant.client.close()
    finally:
        await fake.stop()
    return {t: cpu[t] * 1000 / (args.rounds * args.calls) for t in TRANSPORTS}


def main(argv: list[str] | None = None) -> int:
    """Print CPU ms per call for each transport and their ratio."""
    parser = argparse.ArgumentParser(prog="python -m scripts.bench_llm_http", description=__doc__)
    parser.add_argument("--calls", type=int, default=300, help="calls per round and transport")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args(argv)
    if min(args.calls, args.rounds, args.concurrency) < 1:
        parser.error("--calls, --rounds and --concurrency must be at least 1")
    per_call = asyncio.run(_bench(args))
    for t, ms in per_call.items():
        print(f"{t:<8} {ms:.3f} ms CPU per call")
    print(f"aiohttp / httpx = {per_call['aiohttp'] / per_call['httpx']:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
