"""The fake Graph API in the load generator's process, telling the traffic what was sent.

Meta reports on every message we send (``sent``, ``delivered``, ``read``); to play that
part the traffic must know the wamids the fake handed out. The fake runs in this process
(its record is the send log reconciliation reads) and a middleware passes each accepted
send's wamid and request body to a callback.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from adapters.fakes.graph_api import FakeGraphApi

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class ObservedGraph(FakeGraphApi):
    """:class:`FakeGraphApi` calling ``on_send(wamid, request_body)`` for every accepted send."""

    def __init__(self, on_send: Callable[[str, dict[str, Any]], None], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.on_send = on_send

    def make_app(self) -> web.Application:
        """The fake's application with the observing middleware."""
        app = super().make_app()

        @web.middleware
        async def observe(request: web.Request, handler: Handler) -> web.StreamResponse:
            response = await handler(request)
            if response.status == 200 and request.path.endswith("/messages"):
                body = response.body if isinstance(response, web.Response) else None
                answer = json.loads(body) if isinstance(body, bytes) else {}
                sent = answer.get("messages") or []
                if sent:
                    self.on_send(str(sent[0]["id"]), json.loads(await request.read()))
            return response

        app.middlewares.append(observe)
        return app

    def accepted_by_id(self) -> Counter[str]:
        """Accepted sends per ``biz_opaque_callback_data`` (our outbound id)."""
        return Counter(str(b.get("biz_opaque_callback_data")) for b in self.accepted)

    def requested_by_id(self) -> Counter[str]:
        """Send requests per outbound id, accepted or not."""
        return Counter(
            str(r.json["biz_opaque_callback_data"])
            for r in self.requests
            if isinstance(r.json, dict) and "biz_opaque_callback_data" in r.json
        )
