"""Typed application keys shared by the handlers."""

from __future__ import annotations

import asyncio

from aiohttp import web

from adapters.bootstrap import Deps

DEPS = web.AppKey("deps", Deps)
# Set when the server begins to shut down: long-lived answers (the live stream) end.
SHUTTING_DOWN = web.AppKey("shutting_down", asyncio.Event)
