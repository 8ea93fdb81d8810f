"""Play multi-turn dialogues through the real service and score the replies.

A fresh SQLite file in a temporary directory, the sandbox transport, the real reactors and
the real HTTP app on 127.0.0.1: each turn is a Meta-shaped text message, signed with the
app secret and posted to ``/webhook`` from the customer's phone (or the dealer's). After
each turn the runner waits until every reactor has handled everything in the log (the
service is quiet), then reads what the sandbox sent to that phone since the turn began.

The reactors' clock is fixed at ``now`` plus the real time elapsed since the start, and
message timestamps follow the same clock, so "stasera" and "domani" read the same on
every run. Dialogues run one after another against one service (the file's conventions
allow sharing: sold-out dialogues restore the stock they change).
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import secrets
import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from adapters.bootstrap import Deps, build
from adapters.meta.sandbox import SandboxSent
from adapters.meta.signature import sign
from adapters.settings import Settings
from adapters.store.engine import create_engines
from adapters.store.migrations import migrate
from adapters.web.app import create_app
from core.dialogues import Dialogue, DialogueReport, DialogueTurn, TurnResult, check_turn
from core.ports import Assistant

QUIET = 0.15  # seconds the log must stay still, every reactor caught up, to call a turn over
PATIENCE = 30.0  # longest wait for one turn


def shifted_clock(now: datetime) -> Callable[[], datetime]:
    """A clock that reads ``now`` at creation and then advances in real time."""
    started = time.monotonic()
    return lambda: now + timedelta(seconds=time.monotonic() - started)


def message_body(phone: str, text: str, at: datetime) -> bytes:
    """A Meta webhook body with one text message from ``phone`` sent at ``at``."""
    digits = phone.lstrip("+")
    message = {
        "from": digits,
        "id": f"wamid.EVAL{uuid.uuid4().hex}",
        "timestamp": str(int(at.timestamp())),
        "type": "text",
        "text": {"body": text},
    }
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "390000000000", "phone_number_id": "EVAL"},
        "contacts": [{"profile": {"name": "Cliente"}, "wa_id": digits}],
        "messages": [message],
    }
    entry = {"id": "EVAL_WABA", "changes": [{"field": "messages", "value": value}]}
    return json.dumps({"object": "whatsapp_business_account", "entry": [entry]}).encode()


def reply_text(sent: SandboxSent) -> str:
    """What the recipient reads: the text, or an interactive message's body and choices."""
    p = sent.payload
    if p.get("type") == "text":
        return str(p["text"]["body"])
    if p.get("type") == "interactive":
        inner = p["interactive"]
        rows = [
            f"{r.get('title', '')} {r.get('description', '')}"
            for s in inner.get("action", {}).get("sections", [])
            for r in s.get("rows", [])
        ]
        return "\n".join([str(inner["body"]["text"]), *rows])
    if p.get("type") == "template":
        params = [
            str(x.get("text", ""))
            for c in p["template"].get("components", [])
            for x in c.get("parameters", [])
        ]
        return " ".join([str(p["template"]["name"]), *params])
    return json.dumps(p, ensure_ascii=False)


class DialoguePlayer:
    """One running service that dialogues are played against (see the module docstring)."""

    def __init__(self, deps: Deps, base_url: str, http: aiohttp.ClientSession) -> None:
        self.deps, self.base_url, self.http = deps, base_url, http
        assert deps.settings.whatsapp_app_secret, "the player signs with the app secret"
        self.secret = deps.settings.whatsapp_app_secret

    async def play(self, dialogue: Dialogue, report: DialogueReport) -> None:
        """Play every turn of ``dialogue`` and add its results to ``report``."""
        for i, turn in enumerate(dialogue.turns):
            replies = await self.turn(dialogue.phone, turn)
            problems = check_turn(turn, replies)
            report.add(
                TurnResult(
                    dialogue=dialogue.name,
                    behaviour=dialogue.behaviour,
                    index=i,
                    turn=turn,
                    replies=tuple(replies),
                    problems=problems,
                )
            )

    async def turn(self, phone: str, turn: DialogueTurn) -> list[str]:
        """Send one turn and return the texts sent back to its author, in send order."""
        author = turn.dealer or phone
        before = len(self.deps.sandbox.sent_to(author))
        body = message_body(author, turn.text, self.deps.clock())
        signature = sign(body, self.secret)
        headers = {"Content-Type": "application/json", "X-Hub-Signature-256": signature}
        async with self.http.post(f"{self.base_url}/webhook", data=body, headers=headers) as r:
            if r.status != 200:
                raise RuntimeError(f"/webhook answered {r.status}: {await r.text()}")
        await self.settle()
        return [reply_text(s) for s in self.deps.sandbox.sent_to(author)[before:]]

    async def settle(self) -> None:
        """Wait until every reactor has handled the whole log and it stays still."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + PATIENCE
        quiet_since: float | None = None
        last = -1
        while loop.time() < deadline:
            head = await self.deps.store.last_position()
            caught_up = all(r.safe_position() >= head for r in self.deps.reactors)
            if caught_up and head == last:
                quiet_since = quiet_since or loop.time()
                if loop.time() - quiet_since >= QUIET:
                    return
            else:
                quiet_since = None
            last = head
            await asyncio.sleep(0.03)


async def run_dialogues(
    dialogues: Sequence[Dialogue],
    *,
    now: datetime,
    assistant: Assistant | None = None,
    settings: Settings | None = None,
    workdir: Path | None = None,
) -> dict[str, Any]:
    """Play ``dialogues`` against a fresh service and return the JSON report."""
    with tempfile.TemporaryDirectory(prefix="dloop-eval-", dir=workdir) as tmp:
        base = settings or Settings()
        settings = dataclasses.replace(
            base,
            database_url=f"sqlite+aiosqlite:///{tmp}/eval.db",
            whatsapp_app_secret=secrets.token_hex(32),  # signs this run only
            whatsapp_access_token=None,
            whatsapp_phone_number_id=None,
            debounce_seconds=0.0,
        )
        engines = create_engines(settings.database_url)
        await migrate(engines)
        await engines.dispose()
        deps = build(settings)
        deps.clock = shifted_clock(now)
        if assistant is not None:
            deps.assistant = assistant
        return await _serve_and_play(deps, dialogues)


async def _serve_and_play(deps: Deps, dialogues: Sequence[Dialogue]) -> dict[str, Any]:
    runner = web.AppRunner(create_app(deps), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        port = runner.addresses[0][1]
        report = DialogueReport()
        async with aiohttp.ClientSession() as http:
            player = DialoguePlayer(deps, f"http://127.0.0.1:{port}", http)
            for dialogue in dialogues:
                await player.play(dialogue, report)
        return report.to_json()
    finally:
        await runner.cleanup()
