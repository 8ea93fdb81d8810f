"""A real ``dloop-bot`` process for the documentation and deployment tests.

Started exactly as an operator would (a command line and an environment, in a folder of
its own so no ``.env`` of the developer leaks in), waited for on ``/readyz``, and stopped
with SIGTERM as systemd does. Logs go to a file shown when it fails to start.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

from scripts.bench_e2e import free_port

DLOOP_BOT = str(Path(sys.executable).with_name("dloop-bot"))
READY_TIMEOUT = 90.0  # a loaded 2-core machine imports and migrates slowly


def base_env(**extra: str) -> dict[str, str]:
    """The process environment without our own settings, plus ``extra``."""
    ours = {"DATABASE_URL", "PORT", "HOST", "DLOOP_ROLE", "DLOOP_ENV", "LOG_FORMAT"}
    env = {k: v for k, v in os.environ.items() if k not in ours}
    return {**env, "LOG_LEVEL": "warning", **extra}


def run(argv: Sequence[str], env: Mapping[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run one command to its end (checked by the caller)."""
    return subprocess.run(  # noqa: S603 - test commands, fixed programs
        list(argv), env=dict(env), cwd=cwd, capture_output=True, text=True, timeout=120, check=False
    )


def status_of(url: str, timeout: float = 5.0) -> tuple[int, str]:
    """(HTTP status, body) of a GET, errors included."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as answer:  # noqa: S310 - 127.0.0.1
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


@contextmanager
def running(
    argv: Sequence[str], env: Mapping[str, str], cwd: Path, port: int | None = None
) -> Iterator[str]:
    """Start ``argv`` (a server listening on ``port``), yield its base URL once ready."""
    port = port or int(env.get("PORT") or free_port())
    log = cwd / f"process-{port}.log"
    with log.open("w") as out:
        proc = subprocess.Popen(  # noqa: S603 - test commands, fixed programs
            list(argv), env={**env, "PORT": str(port)}, cwd=cwd, stdout=out, stderr=out
        )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(proc, base, log)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _wait_ready(proc: subprocess.Popen[bytes], base: str, log: Path) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"exited {proc.returncode}: {log.read_text()[-2000:]}")
        try:
            if status_of(f"{base}/readyz", timeout=2)[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.3)
    raise AssertionError(f"not ready after {READY_TIMEOUT} s: {log.read_text()[-2000:]}")
