"""The systemd units in ``deploy/`` run for real: migrate, a worker and a web process on a
fresh PostgreSQL database answer ``/readyz`` and Meta's handshake, and the web process's
webhook is answered by the worker. nginx and Prometheus files are checked by their own
tools when installed."""

from __future__ import annotations

import asyncio
import re
import shutil
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from adapters.store.engine import create_engines
from adapters.store.event_store import EventStore
from scripts.bench_e2e import SECRET, free_port, signed_text
from tests.deploy.conftest import DEPLOY, unit
from tests.support.process import DLOOP_BOT, base_env, run, running, status_of

pytestmark = [pytest.mark.integration, pytest.mark.postgres, pytest.mark.slow]
VERIFY = "deploy-verify-token"
CUSTOMER = "393281234567"


def production_env(database_url: str) -> dict[str, str]:
    """/etc/dloop/dloop.env as docs/deploy.md has it, on the test's database."""
    return base_env(
        DLOOP_ENV="production",
        DATABASE_URL=database_url,
        WHATSAPP_VERIFY_TOKEN=VERIFY,
        WHATSAPP_APP_SECRET=SECRET,
        DEBOUNCE_SECONDS="0",
    )


def post_webhook(base: str) -> int:
    """POST one signed customer message to ``base``/webhook; the HTTP status."""
    body, headers = signed_text(CUSTOMER, "Buongiorno, siete aperti?")
    request = urllib.request.Request(  # noqa: S310 - 127.0.0.1
        f"{base}/webhook", data=body, headers=headers, method="POST"
    )
    with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310 - 127.0.0.1
        return int(answer.status)


def replied(database_url: str) -> bool:
    """True once a reply to the customer is queued in the log."""

    async def check() -> bool:
        engines = create_engines(database_url)
        try:
            events = await EventStore(engines).read_all(0, 10_000)
            return any(e.type == "conversation.reply_queued" for e in events)
        finally:
            await engines.dispose()

    return asyncio.run(check())


def test_the_units_start_a_working_deployment(empty_pg: str, tmp_path: Path) -> None:
    """migrate, then dloop-worker@ and dloop-web@ as their ExecStart lines say."""
    env = production_env(empty_pg)
    migrate = run(unit("dloop-migrate.service").command(), env, tmp_path)
    assert migrate.returncode == 0, migrate.stderr
    assert migrate.stdout.startswith("migrate: 1 ")
    worker, web = unit("dloop-worker@.service"), unit("dloop-web@.service")
    assert (worker.environment, web.environment) == ({"DLOOP_ROLE": "all"}, {"DLOOP_ROLE": "web"})
    w_port, p_port = free_port(), free_port()
    with (
        running(worker.command(str(w_port)), {**env, **worker.environment}, tmp_path, w_port),
        running(web.command(str(p_port)), {**env, **web.environment}, tmp_path, p_port) as base,
    ):
        challenge = "/webhook?hub.mode=subscribe&hub.verify_token=" + VERIFY + "&hub.challenge=77"
        assert status_of(base + challenge) == (200, "77")
        assert post_webhook(base) == 200
        deadline = time.monotonic() + 60
        while not replied(empty_pg):
            assert time.monotonic() < deadline, "the worker never answered the web's webhook"
            time.sleep(0.5)


def test_every_metric_the_alerts_use_is_served(empty_pg: str, tmp_path: Path) -> None:
    """Names in deploy/prometheus/alerts.yml exist in a running process's /metrics."""
    env = production_env(empty_pg)
    assert run(unit("dloop-migrate.service").command(), env, tmp_path).returncode == 0
    worker = unit("dloop-worker@.service")
    port = free_port()
    with running(worker.command(str(port)), {**env, **worker.environment}, tmp_path, port) as base:
        status, text = status_of(base + "/metrics")
    assert status == 200
    served = set(re.findall(r"^# HELP (\w+)", text, re.M))
    rules = (DEPLOY / "prometheus" / "alerts.yml").read_text(encoding="utf-8")
    used = {re.sub(r"_(bucket|sum|count)$", "", m) for m in re.findall(r"dloop_\w+", rules)}
    assert used
    assert used <= served, used - served


@pytest.mark.skipif(
    shutil.which("promtool") is None, reason="promtool not installed (apt install prometheus)"
)
def test_promtool_accepts_the_config_and_rules() -> None:
    """promtool check config (which also checks the rule file it names)."""
    done = subprocess.run(  # noqa: S603 - a fixed tool on our own file
        [
            shutil.which("promtool") or "promtool",
            "check",
            "config",
            str(DEPLOY / "prometheus" / "prometheus.yml"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS" in done.stdout + done.stderr


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze not installed")
def test_systemd_analyze_finds_nothing_to_say(tmp_path: Path) -> None:
    """``systemd-analyze verify`` on the units (paths pointed at this machine) is silent."""
    replaced = {
        "/opt/dloop/.venv/bin/dloop-bot": DLOOP_BOT,
        "/var/lib/dloop": str(tmp_path),
        "EnvironmentFile=/etc/dloop/dloop.env": "EnvironmentFile=-/etc/dloop/dloop.env",
    }
    names = []
    for source, name in (
        ("dloop-migrate.service", "dloop-migrate.service"),
        ("dloop-web@.service", "dloop-web@8081.service"),
        ("dloop-worker@.service", "dloop-worker@8091.service"),
    ):
        text = (DEPLOY / "systemd" / source).read_text(encoding="utf-8")
        for old, new in replaced.items():
            text = text.replace(old, new)
        (tmp_path / name).write_text(text, encoding="utf-8")
        names.append(str(tmp_path / name))
    done = subprocess.run(  # noqa: S603 - a fixed tool on our own files
        [shutil.which("systemd-analyze") or "systemd-analyze", "verify", "--man=no", *names],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (done.returncode, done.stderr) == (0, "")
