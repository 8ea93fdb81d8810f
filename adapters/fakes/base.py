"""What every local fake server shares: listen on a free loopback port, stop cleanly."""

from __future__ import annotations

from aiohttp import web


class LocalServer:
    """Base of the fake upstream servers; subclasses provide :meth:`make_app`."""

    base_url = ""
    _runner: web.AppRunner | None = None

    def make_app(self) -> web.Application:
        """The aiohttp application to serve."""
        raise NotImplementedError

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Listen on ``host:port`` (0 = any free port) and return the base URL."""
        self._runner = web.AppRunner(self.make_app(), handle_signals=False, shutdown_timeout=1.0)
        await self._runner.setup()
        await web.TCPSite(self._runner, host, port).start()
        bound = self._runner.addresses[0]
        self.base_url = f"http://{bound[0]}:{bound[1]}"
        return self.base_url

    async def close(self) -> None:
        """Stop the server."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
