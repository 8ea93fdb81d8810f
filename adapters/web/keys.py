"""Typed application keys shared by the handlers."""

from __future__ import annotations

from aiohttp import web

from adapters.bootstrap import Deps

DEPS = web.AppKey("deps", Deps)
