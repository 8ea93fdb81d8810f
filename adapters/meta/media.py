"""Media download from the Graph API, safely: type allow-list, size caps, retries.

``GET /{media-id}`` gives a short-lived URL (about 5 minutes), its MIME type, SHA-256 and
size; the bytes are then fetched with the access token (both through the injected
:class:`~core.ports.Messenger`). Before any byte is read the type must be on the
allow-list of its kind and the announced size within the kind's cap (and not zero);
after, the size is checked again and the SHA-256 compared with Meta's.

Retries follow the send policy (:func:`core.send_errors.backoff_delay`): transient errors
(5xx, rate limits, timeouts, a dropped connection) are retried up to ``max_attempts``
with exponential backoff and jitter; downloads are reads, so a timeout is safe to retry.
An expired URL (404 on the download) is looked up afresh. Everything else fails at once.

Every failure is a :class:`MediaError` with a ``reason`` (``mime``, ``too_large``,
``empty``, ``not_found``, ``expired``, ``unavailable``); the bytes never leave the
caller's memory: what is recorded is :class:`Downloaded`'s hash, type and size.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import random
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field

from core.outbound import MediaInfo
from core.ports import Messenger, PortError
from core.send_errors import SendError, TransientSendError, backoff_delay

MIB = 1024 * 1024
ALLOWED: Mapping[str, frozenset[str]] = {
    # Meta's supported audio types; voice notes are audio/ogg with the opus codec.
    "audio": frozenset(
        {"audio/ogg", "audio/opus", "audio/mpeg", "audio/mp4", "audio/aac", "audio/amr"}
    ),
    "image": frozenset({"image/jpeg", "image/png", "image/webp"}),
}


class MediaError(PortError):
    """A media item could not be downloaded; ``reason`` says why (module docstring)."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True, slots=True, kw_only=True)
class MediaLimits:
    """Size caps per kind (bytes) and the MIME allow-list."""

    audio_bytes: int = 16 * MIB
    image_bytes: int = 5 * MIB
    allowed: Mapping[str, frozenset[str]] = field(default_factory=lambda: dict(ALLOWED))

    def cap(self, kind: str) -> int:
        """The largest file accepted for ``kind``."""
        return self.audio_bytes if kind == "audio" else self.image_bytes


@dataclass(frozen=True, slots=True, kw_only=True)
class Downloaded:
    """Bytes of a media item (kept in memory only) and what may be recorded about them."""

    content: bytes = field(repr=False)
    mime_type: str
    sha256: str
    size: int


def base_type(mime_type: str) -> str:
    """``audio/ogg; codecs=opus`` -> ``audio/ogg``."""
    return mime_type.split(";", 1)[0].strip().lower()


class MediaDownloader:
    """Downloads one media item through a :class:`Messenger` under :class:`MediaLimits`."""

    def __init__(
        self,
        messenger: Messenger,
        limits: MediaLimits | None = None,
        *,
        max_attempts: int = 3,
        backoff_base: float = 0.5,
        jitter: Callable[[], float] = random.random,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.messenger = messenger
        self.limits = limits or MediaLimits()
        self.max_attempts, self.backoff_base = max_attempts, backoff_base
        self._jitter, self._sleep = jitter, sleep

    async def download(self, media_id: str, kind: str) -> Downloaded:
        """The checked bytes of ``media_id``; raises :class:`MediaError`."""
        last: Exception | None = None
        for attempt in range(1, self.max_attempts + 1):
            try:
                return await self._once(media_id, kind)
            except MediaError:
                raise
            except TransientSendError as exc:
                last = exc
                if attempt < self.max_attempts:
                    await self._sleep(self._delay(attempt, exc.retry_after))
            except SendError as exc:
                raise _refusal(exc) from exc
        raise MediaError("unavailable", f"media {media_id} unavailable: {last}")

    async def _once(self, media_id: str, kind: str) -> Downloaded:
        info = await self.messenger.fetch_media(media_id)
        self._check(info, kind)
        try:
            content = await self.messenger.download_media(info.url)
        except SendError as exc:
            if exc.http_status != 404 or isinstance(exc, TransientSendError):
                raise
            # The URL expired between the look-up and the download: look it up again.
            info = await self.messenger.fetch_media(media_id)
            self._check(info, kind)
            try:
                content = await self.messenger.download_media(info.url)
            except SendError as again:
                if again.http_status == 404:
                    raise MediaError("expired", f"media URL expired twice: {again}") from again
                raise
        return self._checked(content, info, kind)

    def _check(self, info: MediaInfo, kind: str) -> None:
        mime = base_type(info.mime_type)
        if mime not in self.limits.allowed.get(kind, frozenset()):
            raise MediaError("mime", f"{kind} of type {mime!r} is not accepted")
        if info.file_size <= 0:
            raise MediaError("empty", "the file is empty")
        if info.file_size > self.limits.cap(kind):
            raise MediaError("too_large", f"{info.file_size} bytes > {self.limits.cap(kind)}")

    def _checked(self, content: bytes, info: MediaInfo, kind: str) -> Downloaded:
        if not content:
            raise MediaError("empty", "the download is empty")
        if len(content) > self.limits.cap(kind):
            raise MediaError("too_large", f"{len(content)} bytes > {self.limits.cap(kind)}")
        digest = hashlib.sha256(content).hexdigest()
        if not _hash_agrees(content, info.sha256):
            raise TransientSendError(f"SHA-256 mismatch ({digest} != {info.sha256})")
        return Downloaded(
            content=content, mime_type=base_type(info.mime_type), sha256=digest, size=len(content)
        )

    def _delay(self, attempt: int, retry_after: float | None) -> float:
        return backoff_delay(
            attempt, base=self.backoff_base, jitter=self._jitter(), retry_after=retry_after
        )


def _hash_agrees(content: bytes, announced: str) -> bool:
    """Meta's hash, written in hex or (in some webhooks) base64; another form is not judged."""
    raw = hashlib.sha256(content).digest()
    if len(announced) == 64:
        return announced.lower() == raw.hex()
    if len(announced) == 44:
        return announced == base64.b64encode(raw).decode()
    return True


def _refusal(exc: SendError) -> MediaError:
    """A permanent Graph API answer: the media id is unknown (or gone), or access failed."""
    if exc.code == 100 or exc.http_status == 404:
        return MediaError("not_found", f"media not found: {exc}")
    if "larger than" in str(exc):
        return MediaError("too_large", str(exc))
    return MediaError("unavailable", f"media refused: {exc}")
