"""The dashboard's files, shipped as package data in ``adapters/static/``.

Read on each request (a few kilobytes; edits show without a restart), only by exact
name and only for the kinds of file listed in :data:`CONTENT_TYPES`; pages (``*.html``)
are not served raw because the page handlers fill them in.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

from aiohttp import web

STATIC_DIR = Path(__file__).resolve().parents[2] / "static"
CONTENT_TYPES = {
    ".js": "text/javascript",
    ".css": "text/css",
    ".svg": "image/svg+xml",
    ".png": "image/png",
}
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*\.[a-z]{2,4}$")


def read_asset(name: str) -> bytes:
    """The bytes of ``adapters/static/<name>``."""
    return (STATIC_DIR / name).read_bytes()


def render_page(name: str, values: dict[str, str]) -> str:
    """The HTML page ``name`` with each ``{{key}}`` replaced by its HTML-escaped value."""
    text = read_asset(name).decode("utf-8")
    for key, value in values.items():
        text = text.replace("{{" + key + "}}", html.escape(value, quote=True))
    return text


async def asset(request: web.Request) -> web.Response:
    """``GET /static/{name}``: a script, style sheet or image of the dashboard."""
    name = request.match_info["name"]
    suffix = Path(name).suffix
    if not _NAME.match(name) or suffix not in CONTENT_TYPES:
        return web.Response(status=404, text="no such file")
    try:
        body = read_asset(name)
    except FileNotFoundError:
        return web.Response(status=404, text="no such file")
    return web.Response(
        body=body,
        content_type=CONTENT_TYPES[suffix],
        charset="utf-8" if suffix in {".js", ".css", ".svg"} else None,
        headers={"Cache-Control": "no-cache"},
    )
