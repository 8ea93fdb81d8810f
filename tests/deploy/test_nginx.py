"""deploy/nginx/dloop.conf, run by a real nginx in front of a real ``dloop-bot serve``.

Only the site-specific parts change (ports, certificate paths, the name): TLS is
terminated, Meta's handshake reaches the service, plain HTTP is redirected, and
``/metrics`` stays inside. Skipped when nginx is not installed (Debian: nginx-light).
"""

from __future__ import annotations

import datetime as dt
import shutil
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from scripts.bench_e2e import free_port
from tests.deploy.conftest import DEPLOY
from tests.support.process import DLOOP_BOT, base_env, run, running

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
pytestmark = [
    pytest.mark.integration,
    pytest.mark.slow,
    pytest.mark.skipif(not Path(NGINX).exists(), reason="nginx not installed"),
]
VERIFY = "nginx-verify-token"


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A throw-away certificate for 127.0.0.1 (stands in for the Let's Encrypt one)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "relay.example.com")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "fullchain.pem", folder / "privkey.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def site(folder: Path, upstream: int, http: int, https: int) -> Path:
    """The shipped site file with this machine's ports and certificate; a main config."""
    cert, key = self_signed(folder)
    text = (DEPLOY / "nginx" / "dloop.conf").read_text(encoding="utf-8")
    for old, new in (
        ("127.0.0.1:8081", f"127.0.0.1:{upstream}"),
        ("127.0.0.1:8082", f"127.0.0.1:{upstream}"),
        ("/etc/letsencrypt/live/relay.example.com/fullchain.pem", str(cert)),
        ("/etc/letsencrypt/live/relay.example.com/privkey.pem", str(key)),
        ("listen 80;", f"listen 127.0.0.1:{http};"),
        ("listen 443 ssl http2;", f"listen 127.0.0.1:{https} ssl http2;"),
    ):
        assert old in text, old
        text = text.replace(old, new)
    text = "\n".join(line for line in text.splitlines() if "listen [::]" not in line)
    (folder / "dloop.conf").write_text(text, encoding="utf-8")
    temp = "\n".join(
        f"  {kind}_temp_path {folder}/{kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    main = folder / "nginx.conf"
    main.write_text(
        f"daemon off;\nuser root;\nworker_processes 1;\npid {folder}/nginx.pid;\n"
        f"error_log {folder}/error.log;\nevents {{}}\nhttp {{\n  access_log off;\n{temp}\n"
        f"  include {folder}/dloop.conf;\n}}\n",
        encoding="utf-8",
    )
    return main


def fetch(url: str) -> tuple[int, str, str | None]:
    """(status, body, Location) without following redirects or checking the certificate."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *_args: object, **_kw: object) -> None:
            return None

    opener = urllib.request.build_opener(urllib.request.HTTPSHandler(context=context), NoRedirect)
    try:
        with opener.open(url, timeout=10) as answer:
            return answer.status, answer.read().decode(), answer.headers.get("Location")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(), exc.headers.get("Location")


def test_nginx_terminates_tls_and_forwards_meta_handshake(tmp_path: Path) -> None:
    """nginx -t passes; through it the handshake echoes, HTTP redirects, /metrics is 404."""
    env = base_env(
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path}/d.db", WHATSAPP_VERIFY_TOKEN=VERIFY
    )
    assert run([DLOOP_BOT, "migrate"], env, tmp_path).returncode == 0
    upstream, http, https = free_port(), free_port(), free_port()
    config = site(tmp_path, upstream, http, https)
    checked = run([NGINX, "-t", "-p", str(tmp_path), "-c", str(config)], env, tmp_path)
    assert checked.returncode == 0, checked.stderr
    with running([DLOOP_BOT, "serve"], env, tmp_path, upstream):
        proxy = subprocess.Popen(  # noqa: S603 - the system's nginx on our config
            [NGINX, "-p", str(tmp_path), "-c", str(config)], stderr=subprocess.DEVNULL
        )
        try:
            base = f"https://127.0.0.1:{https}"
            query = f"/webhook?hub.mode=subscribe&hub.verify_token={VERIFY}&hub.challenge=4242"
            deadline = time.monotonic() + 30
            while True:
                try:
                    answer = fetch(base + query)
                    break
                except OSError:
                    assert time.monotonic() < deadline, (tmp_path / "error.log").read_text()
                    time.sleep(0.2)
            assert answer[:2] == (200, "4242")
            assert fetch(base + "/metrics")[0] == 404
            assert fetch(base + "/readyz")[0] == 200
            status, _, location = fetch(f"http://127.0.0.1:{http}/healthz")
            assert (status, location) == (301, "https://127.0.0.1/healthz")
        finally:
            proxy.terminate()
            proxy.wait(timeout=10)
