"""Every fenced ``curl`` example of README.md runs against a real server, in README order.

The server is started as ``make run`` starts it (``dloop-bot migrate``, then ``serve``) on a
fresh SQLite file; the examples run through bash with real curl, with only the port
changed and ``$TOKEN`` / ``$WHATSAPP_VERIFY_TOKEN`` set. Each must answer below 400;
``/simulate?wait`` examples must come back recorded with the bot's replies (unless the
line ends with the shell comment ``# no reply``), and the handshake must echo its
challenge. Examples added later (more ``/simulate`` calls) are picked up by the same
extraction. JSON bodies marked ``<!-- example: NAME -->`` are
checked against the code that reads them.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from adapters.web.market_webhook import parse_status
from core.dealer_commands import _VERBS
from tests.support.process import DLOOP_BOT, base_env, run, running

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
README = Path(__file__).parents[2] / "README.md"
DOCUMENTED = "http://127.0.0.1:8080"
VERIFY = "readme-verify-token"
BASH = shutil.which("bash") or "/bin/bash"
FENCE = re.compile(r"(?:<!-- example: ([\w-]+) -->\n)?^```(\w*)\n(.*?)^```", re.M | re.S)


def fenced(text: str) -> list[tuple[str | None, str, str]]:
    """(marker, language, body) of every fenced block."""
    return [(m[1], m[2], m[3]) for m in FENCE.finditer(text)]


def curl_commands(text: str) -> list[str]:
    """Every ``curl`` command line of the shell blocks, continuations joined."""
    commands = []
    for _, language, body in fenced(text):
        if language not in {"sh", "bash", "shell", "console"}:
            continue
        joined = re.sub(r"\\\n\s*", " ", body)
        commands += [
            line.strip() for line in joined.splitlines() if line.strip().startswith("curl ")
        ]
    return commands


def marked(text: str, name: str) -> str:
    """The body of the block marked ``<!-- example: name -->``."""
    found = [body for marker, _, body in fenced(text) if marker == name]
    assert len(found) == 1, f"README must hold exactly one block marked {name}"
    return found[0]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    """A served fresh database, as after ``make run``, and the env the examples see."""
    folder = tmp_path_factory.mktemp("readme")
    env = base_env(
        DATABASE_URL=f"sqlite+aiosqlite:///{folder}/dloop.db", WHATSAPP_VERIFY_TOKEN=VERIFY
    )
    assert run([DLOOP_BOT, "migrate"], env, folder).returncode == 0
    made = run([DLOOP_BOT, "token", "create", "--role", "admin", "--label", "readme"], env, folder)
    secret = re.search(r"token:\s+(\S+)", made.stdout)
    assert secret is not None, made.stderr
    with running([DLOOP_BOT, "serve"], env, folder) as base:
        yield base, {**env, "TOKEN": secret[1]}


def test_the_readme_has_the_examples_it_promises() -> None:
    """The extraction finds the quick start, shop, dealer, API and probe examples."""
    commands = curl_commands(README.read_text(encoding="utf-8"))
    assert len(commands) >= 11
    assert sum("/simulate" in c for c in commands) >= 6
    assert any("/api/" in c for c in commands)
    assert any("hub.challenge" in c for c in commands)


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_every_curl_example_answers_as_the_readme_says(
    server: tuple[str, dict[str, str]],
) -> None:
    """Run each example in order; status below 400 and the promised body."""
    base, env = server
    for command in curl_commands(README.read_text(encoding="utf-8")):
        status, body = _curl(command.replace(DOCUMENTED, base), env)
        assert status < 400, (command, status, body)
        if "/simulate?wait=" in command:
            answer = json.loads(body)
            assert answer["status"] == "recorded", command
            if "# no reply" not in command:  # e.g. a reaction, which the bot may not answer
                assert answer["replies"], f"no reply within the wait: {command}"
        if "hub.challenge=" in command:
            assert body == re.search(r"hub\.challenge=(\d+)", command)[1]  # type: ignore[index]


def _curl(command: str, env: dict[str, str]) -> tuple[int, str]:
    """Run one README command with curl reporting the status on a last line."""
    probe = command.replace("curl ", "curl -w '\\n%{http_code}' ", 1)
    done = subprocess.run(  # noqa: S603 - the README's own examples, against 127.0.0.1
        [BASH, "-c", probe], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, (command, done.stderr)
    body, _, status = done.stdout.rpartition("\n")
    return int(status), body


def test_the_market_webhook_body_is_the_one_the_server_reads() -> None:
    """The documented body parses with the handler's own reader (placeholders filled)."""
    body = marked(README.read_text(encoding="utf-8"), "market-webhook-body")
    raw = body.replace("<relay id>", "r-5e7b1c93").encode()
    fact = parse_status(raw, datetime(2026, 11, 27, 19, tzinfo=UTC))
    assert (fact.relay_id, fact.market_order_id, fact.status) == (
        "r-5e7b1c93",
        "DL-1001",
        "delivered",
    )
    assert set(json.loads(raw)) == {"external_id", "order_id", "status", "occurred_at"}


def test_the_dealer_table_lists_every_command_the_core_reads() -> None:
    """Each verb dealers can use (core/dealer_commands.py) has a row in the README."""
    text = README.read_text(encoding="utf-8")
    for verb in set(_VERBS.values()):
        assert re.search(rf"^\| `{verb}( [^`]*)?` \|", text, re.M), verb
