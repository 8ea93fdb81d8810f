"""A fake OpenAI API on 127.0.0.1 that speaks the real JSON, for tests and benchmarks.

The ``openai`` SDK runs on httpx2, which ``respx`` cannot intercept, so the real
adapter is tested over HTTP against this server through ``base_url``. It serves
``POST /v1/chat/completions`` (text and image input), ``POST /v1/embeddings`` and
``POST /v1/audio/transcriptions`` (multipart; :func:`transcript` scripts an answer);
each request takes the next scripted :class:`Behaviour` of its endpoint (see
:func:`json_reply`, :func:`http_error`,
:func:`rate_limited`, :func:`slow`, :func:`malformed_body`, :func:`refusal`,
:func:`length_cut`) or, when nothing is scripted, a deterministic default: for a
structured-output request, the simplest object matching the JSON schema (intent
``general_chat`` when the schema offers it); otherwise a short Italian sentence.
Embeddings are hashed bags of word stems (64 dimensions, unit length), so texts that
share words are similar. Every request is recorded in :attr:`FakeOpenAI.requests`.

Models: ``GET /v1/models`` lists :attr:`FakeOpenAI.models` (id to ``shutdown_date``, sent
as given, so a test can serve a malformed one); a chat request naming a model in
:attr:`FakeOpenAI.retired` answers 404 ``model_not_found``, as OpenAI does after a
shutdown. :meth:`FakeOpenAI.retire` switches a model off mid-run; with
``models_endpoint = False`` the listing answers 404, like a server without it.

Standalone: ``python -m adapters.fakes.openai_server --port 8998 --latency 0.8``.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import hashlib
import itertools
import json
import math
import struct
import time
import unicodedata
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from aiohttp import BodyPartReader, web

DEFAULT_TEXT = "Ciao! Sono l'assistente di Dloop: come posso aiutarti?"
DEFAULT_TRANSCRIPT = "Vorrei 2 mozzarelle e un latte"
DIMENSIONS = 64
MODEL_SNAPSHOTS = {"gpt-4o-mini": "gpt-4o-mini-2024-07-18"}
LISTED_MODELS: dict[str, object] = {
    "gpt-6-luna": None,
    "gpt-6.1-terra": None,
    "gpt-transcribe": None,
    "gpt-4o-mini": "2027-01-14",
    "gpt-4.1-mini": "2027-01-14",
    "whisper-1": "2027-02-26",
    "text-embedding-3-small": None,
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Behaviour:
    """One scripted answer: kind plus what it needs. Build it with the functions below."""

    kind: str  # json | error | slow | malformed | refusal | length | missing
    content: str = ""
    status: int = 200
    delay: float = 0.0
    headers: Mapping[str, str] = field(default_factory=dict)


def json_reply(payload: object) -> Behaviour:
    """Answer with this content: a JSON-encoded object, or a string as given."""
    content = payload if isinstance(payload, str) else json.dumps(payload, ensure_ascii=False)
    return Behaviour(kind="json", content=content)


def http_error(status: int, *, retry_after_ms: int | None = None) -> Behaviour:
    """Answer with an OpenAI error body and ``status`` (e.g. 500, 503)."""
    headers = {"retry-after-ms": str(retry_after_ms)} if retry_after_ms is not None else {}
    return Behaviour(kind="error", status=status, headers=headers)


def rate_limited(*, retry_after: int = 1, retry_after_ms: int | None = 10) -> Behaviour:
    """Answer 429 with ``retry-after`` (seconds) and ``retry-after-ms`` headers."""
    headers = {"retry-after": str(retry_after)}
    if retry_after_ms is not None:
        headers["retry-after-ms"] = str(retry_after_ms)
    return Behaviour(kind="error", status=429, headers=headers)


def slow(seconds: float) -> Behaviour:
    """Wait ``seconds`` (e.g. past the client's timeout) before the default answer."""
    return Behaviour(kind="slow", delay=seconds)


def malformed_body() -> Behaviour:
    """Answer 200 ``application/json`` with a truncated, unparsable body."""
    return Behaviour(kind="malformed")


def refusal(text: str = "Mi dispiace, non posso aiutarti con questa richiesta.") -> Behaviour:
    """Answer with ``message.refusal`` set and no content."""
    return Behaviour(kind="refusal", content=text)


def length_cut(text: str = '{"intent": "order_req') -> Behaviour:
    """Answer with ``finish_reason: "length"`` and the cut content."""
    return Behaviour(kind="length", content=text)


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordedRequest:
    """A request the fake received."""

    path: str
    body: dict[str, Any]
    headers: dict[str, str]


class FakeOpenAI:
    """The fake server; ``await start()`` returns its base URL (``.../v1``)."""

    def __init__(self, *, latency: float = 0.0) -> None:
        self.latency = latency
        self.base_url = ""  # set by start()
        self.requests: list[RecordedRequest] = []
        self._queues: dict[str, deque[Behaviour]] = {
            "chat": deque(),
            "embeddings": deque(),
            "transcriptions": deque(),
        }
        self.models: dict[str, object] = dict(LISTED_MODELS)  # id -> shutdown_date, as sent
        self.retired: set[str] = set()
        self.models_endpoint = True
        self._ids = itertools.count(1)
        self._closing = asyncio.Event()
        self._runner: web.AppRunner | None = None

    def enqueue(self, *behaviours: Behaviour, endpoint: str = "chat") -> None:
        """Script the next answers of ``endpoint`` (chat, embeddings, transcriptions), in order."""
        self._queues[endpoint].extend(behaviours)

    def retire(self, model: str, *, shutdown_date: str = "2026-01-01") -> None:
        """From now on ``model`` answers 404 ``model_not_found`` and lists as shut down."""
        self.retired.add(model)
        self.models[model] = shutdown_date

    def requests_to(self, endpoint: str) -> list[RecordedRequest]:
        """The recorded requests of one endpoint (chat, embeddings, transcriptions)."""
        path = _PATHS[endpoint]
        return [r for r in self.requests if r.path == path]

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Listen on ``host:port`` (0 picks a free port) and return the base URL."""
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._chat)
        app.router.add_post("/v1/embeddings", self._embeddings)
        app.router.add_post("/v1/audio/transcriptions", self._transcriptions)
        app.router.add_get("/v1/models", self._list_models)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        bound = self._runner.addresses[0][1]
        self.base_url = f"http://{host}:{bound}/v1"
        return self.base_url

    async def close(self) -> None:
        """Wake slow handlers and stop listening."""
        self._closing.set()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _prelude(
        self, request: web.Request, endpoint: str
    ) -> tuple[dict[str, Any], Behaviour]:
        body = await request.json()
        self.requests.append(
            RecordedRequest(path=request.path, body=body, headers=dict(request.headers))
        )
        queue = self._queues[endpoint]
        if endpoint == "chat" and body.get("model") in self.retired:
            behaviour = Behaviour(kind="missing", status=404, content=str(body["model"]))
        else:
            behaviour = queue.popleft() if queue else Behaviour(kind="default")
        await self._pause(self.latency + behaviour.delay)
        return body, behaviour

    async def _pause(self, seconds: float) -> None:
        if seconds > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._closing.wait(), seconds)

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        body, behaviour = await self._prelude(request, "chat")
        if (special := _special_response(behaviour)) is not None:
            return special
        content: str | None = behaviour.content
        finish, refused = "stop", None
        if behaviour.kind in ("default", "slow"):
            content = _default_content(body)
        elif behaviour.kind == "refusal":
            content, refused = None, behaviour.content
        elif behaviour.kind == "length":
            finish = "length"
        return web.json_response(
            self._completion(body, content, refused, finish), headers=self._headers()
        )

    async def _list_models(self, request: web.Request) -> web.StreamResponse:
        self.requests.append(
            RecordedRequest(path=request.path, body={}, headers=dict(request.headers))
        )
        if not self.models_endpoint:
            return web.json_response({"detail": "Not Found"}, status=404)
        data = [
            {"id": mid, "object": "model", "created": 1_700_000_000, "owned_by": "system"}
            | ({"shutdown_date": date} if date is not None else {})
            for mid, date in self.models.items()
        ]
        return web.json_response({"object": "list", "data": data}, headers=self._headers())

    async def _embeddings(self, request: web.Request) -> web.StreamResponse:
        body, behaviour = await self._prelude(request, "embeddings")
        if (special := _special_response(behaviour)) is not None:
            return special
        texts = body["input"] if isinstance(body["input"], list) else [body["input"]]
        as_base64 = body.get("encoding_format") == "base64"
        data = [
            {"object": "embedding", "index": i, "embedding": _encode(embed_text(t), as_base64)}
            for i, t in enumerate(texts)
        ]
        tokens = sum(len(str(t).split()) for t in texts)
        payload = {
            "object": "list",
            "data": data,
            "model": body.get("model", ""),
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
        }
        return web.json_response(payload, headers=self._headers())

    async def _transcriptions(self, request: web.Request) -> web.StreamResponse:
        """``POST /v1/audio/transcriptions`` (multipart): the scripted or default transcript.

        The request is recorded with its form fields and the file's name, type, size and
        SHA-256 (not its bytes).
        """
        fields = await read_transcription_form(request)
        self.requests.append(
            RecordedRequest(path=request.path, body=fields, headers=dict(request.headers))
        )
        queue = self._queues["transcriptions"]
        behaviour = queue.popleft() if queue else Behaviour(kind="default")
        await self._pause(self.latency + behaviour.delay)
        if (special := _special_response(behaviour)) is not None:
            return special
        if "language" in fields and "languages" in fields:
            message = "Send either 'language' or 'languages', not both."
            return web.json_response(
                {"error": {"message": message, "type": "invalid_request_error"}}, status=400
            )
        if not fields.get("file_size"):
            return web.json_response(
                {"error": {"message": "Audio file is empty", "type": "invalid_request_error"}},
                status=400,
            )
        text = DEFAULT_TRANSCRIPT if behaviour.kind in ("default", "slow") else behaviour.content
        return web.json_response({"text": text}, headers=self._headers())

    def _completion(
        self, body: dict[str, Any], content: str | None, refused: str | None, finish: str
    ) -> dict[str, Any]:
        prompt = sum(len(str(m.get("content") or "").split()) for m in body.get("messages", []))
        completion = len((content or refused or "").split())
        model = str(body.get("model", ""))
        return {
            "id": f"chatcmpl-fake{next(self._ids):06d}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": MODEL_SNAPSHOTS.get(model, model),
            "system_fingerprint": "fp_fake",
            "choices": [
                {
                    "index": 0,
                    "message": {
                        "role": "assistant",
                        "content": content,
                        "refusal": refused,
                        "tool_calls": None,
                        "annotations": [],
                    },
                    "logprobs": None,
                    "finish_reason": finish,
                }
            ],
            "usage": {
                "prompt_tokens": prompt,
                "completion_tokens": completion,
                "total_tokens": prompt + completion,
            },
        }

    def _headers(self) -> dict[str, str]:
        return {"x-request-id": f"req_fake{next(self._ids):06d}", "openai-processing-ms": "1"}


_PATHS = {
    "chat": "/v1/chat/completions",
    "embeddings": "/v1/embeddings",
    "transcriptions": "/v1/audio/transcriptions",
}


def transcript(text: str) -> Behaviour:
    """A transcription answer saying ``text``."""
    return Behaviour(kind="json", content=text)


async def read_transcription_form(request: web.Request) -> dict[str, Any]:
    """The multipart form of a transcription request: fields, and the file described."""
    fields: dict[str, Any] = {}
    reader = await request.multipart()
    while (part := await reader.next()) is not None:
        if not isinstance(part, BodyPartReader):
            continue
        if part.filename is not None:
            data = await part.read()
            fields.update(
                filename=part.filename,
                file_type=part.headers.get("Content-Type"),
                file_size=len(data),
                file_sha256=hashlib.sha256(data).hexdigest(),
            )
        elif part.name and part.name.endswith("[]"):  # the SDK's arrays: ``languages[]=it``
            fields.setdefault(part.name[:-2], []).append(await part.text())
        elif part.name:
            fields[part.name] = await part.text()
    return fields


def _special_response(behaviour: Behaviour) -> web.StreamResponse | None:
    """Error and malformed answers, which have no completion body."""
    if behaviour.kind == "malformed":
        return web.Response(status=200, text='{"id": "chatcmpl-', content_type="application/json")
    if behaviour.kind == "missing":
        message = f"The model `{behaviour.content}` does not exist or you do not have access to it."
        error = {
            "message": message,
            "type": "invalid_request_error",
            "param": None,
            "code": "model_not_found",
        }
        return web.json_response({"error": error}, status=404)
    if behaviour.kind != "error":
        return None
    kind = "requests" if behaviour.status == 429 else "server_error"
    error = {"message": f"fake error {behaviour.status}", "type": kind, "param": None, "code": None}
    return web.json_response(
        {"error": error}, status=behaviour.status, headers=dict(behaviour.headers)
    )


def _default_content(body: dict[str, Any]) -> str:
    fmt = body.get("response_format") or {}
    if fmt.get("type") == "json_schema":
        schema = fmt["json_schema"]["schema"]
        return json.dumps(example_of(schema, schema))
    if fmt.get("type") == "json_object":
        return "{}"
    return DEFAULT_TEXT


def example_of(schema: Mapping[str, Any], root: Mapping[str, Any]) -> Any:
    """The simplest value matching a (strict) JSON schema; prefers ``general_chat`` enums."""
    if "$ref" in schema:
        name = str(schema["$ref"]).rsplit("/", 1)[-1]
        return example_of(root["$defs"][name], root)
    if "enum" in schema:
        options = list(schema["enum"])
        return "general_chat" if "general_chat" in options else options[0]
    if "anyOf" in schema:
        return example_of(schema["anyOf"][0], root)
    kind = schema.get("type")
    if kind == "object":
        props = schema.get("properties", {})
        return {name: example_of(sub, root) for name, sub in props.items()}
    return {"array": [], "string": "", "number": 0.5, "integer": 1, "boolean": False}.get(str(kind))


def embed_text(text: str) -> list[float]:
    """Deterministic unit vector of ``text``: a signed, hashed bag of word stems."""
    vector = [0.0] * DIMENSIONS
    folded = unicodedata.normalize("NFKD", text.casefold())
    letters = "".join(c if c.isalnum() else " " for c in folded if not unicodedata.combining(c))
    for word in letters.split():
        if len(word) > 2:
            digest = hashlib.sha256(word[:5].encode()).digest()
            vector[digest[0] % DIMENSIONS] += 1.0 if digest[1] % 2 else -1.0
    norm = math.sqrt(sum(x * x for x in vector))
    return [x / norm for x in vector] if norm else vector


def _encode(vector: list[float], as_base64: bool) -> list[float] | str:
    if not as_base64:
        return vector
    return base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode()


async def _serve(host: str, port: int, latency: float) -> None:
    fake = FakeOpenAI(latency=latency)
    print(f"fake OpenAI listening on {await fake.start(host, port)}", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await fake.close()


def main(argv: list[str] | None = None) -> int:
    """Run the fake standalone until interrupted."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8998)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added to every answer")
    args = parser.parse_args(argv)
    try:
        asyncio.run(_serve(args.host, args.port, args.latency))
    except KeyboardInterrupt:
        return 0
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
