"""The aiohttp surface: webhook, simulator, health and (later) the read API and dashboard."""
