"""A TCP proxy on 127.0.0.1 that can take its upstream "down" and bring it back.

Put it between the service and a dependency (PostgreSQL, the Graph API) to play an
outage without touching the real server, which others may share:

* :meth:`FaultyProxy.go_down` stops listening (new connections are refused, as by a
  stopped server) and aborts every open connection (as a server that died);
* :meth:`FaultyProxy.come_up` listens again on the same port.

Bytes are relayed unchanged in both directions; it knows nothing of the protocols.

Run alone: ``python -m adapters.fakes.tcp_proxy --target 127.0.0.1:5432 --port 6543``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal

CHUNK = 1 << 16


class FaultyProxy:
    """Relays ``127.0.0.1:port`` to ``target_host:target_port``; see the module docstring."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.host = "127.0.0.1"
        self.port = 0
        self.connections = 0  # accepted so far (tests check the service reconnected)
        self._server: asyncio.Server | None = None
        self._open: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> int:
        """Listen on ``host:port`` (0 = any free port) and return the port."""
        self.host = host
        self._server = await asyncio.start_server(self._accept, host, port, reuse_address=True)
        self.port = self._server.sockets[0].getsockname()[1]
        return self.port

    async def go_down(self) -> None:
        """Refuse new connections and cut every open one."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        for writer in tuple(self._open):
            writer.transport.abort()
        self._open.clear()

    async def come_up(self) -> None:
        """Accept connections again, on the same port."""
        if self._server is None:
            await self.start(self.host, self.port)

    async def close(self) -> None:
        """Go down for good and wait for the relays to end."""
        await self.go_down()
        for task in tuple(self._tasks):
            task.cancel()
        await asyncio.gather(*tuple(self._tasks), return_exceptions=True)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.transport.abort()
            return
        self._open.update((writer, up_writer))
        for source, sink in ((reader, up_writer), (up_reader, writer)):
            task = asyncio.create_task(self._pipe(source, sink, (writer, up_writer)))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _pipe(
        self,
        source: asyncio.StreamReader,
        sink: asyncio.StreamWriter,
        pair: tuple[asyncio.StreamWriter, asyncio.StreamWriter],
    ) -> None:
        try:
            while chunk := await source.read(CHUNK):
                sink.write(chunk)
                await sink.drain()
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            for end in pair:  # one side gone: the other goes too, like a dead server
                self._open.discard(end)
                with contextlib.suppress(Exception):
                    end.transport.abort()


def main(argv: list[str] | None = None) -> int:
    """Run the proxy alone; SIGUSR1 takes it down, SIGUSR2 brings it back."""
    parser = argparse.ArgumentParser(description="A TCP proxy that can play an outage.")
    parser.add_argument("--target", required=True, help="HOST:PORT to relay to")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    host, _, port = args.target.rpartition(":")
    asyncio.run(_serve(FaultyProxy(host, int(port)), args.port))
    return 0


async def _serve(proxy: FaultyProxy, port: int) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    loop.add_signal_handler(signal.SIGUSR1, lambda: loop.create_task(proxy.go_down()))
    loop.add_signal_handler(signal.SIGUSR2, lambda: loop.create_task(proxy.come_up()))
    print(f"127.0.0.1:{await proxy.start(port=port)}", flush=True)
    try:
        await stop.wait()
    finally:
        await proxy.close()


if __name__ == "__main__":
    raise SystemExit(main())
