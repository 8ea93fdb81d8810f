"""Pseudonymous people and their keys: crypto-shredding (docs/adr/0007-crypto-shredding.md).

Every conversation key (an E.164 phone or ``bsuid:<id>``) is mapped once to a random
person id (``prs_...``, :func:`core.phones.is_person_id`); streams are named by the person
id, never by the phone. With the id the directory keeps a random AES-256 key. The event
store seals the personal fields of every event (those its class lists in ``PERSONAL``) of
a person's stream with that key, and the raw webhook body with the keys of everyone the
delivery concerns. :meth:`People.erase` deletes the person's row: the phone, the mapping
and the key go together, so nothing left in the database links back to the phone and
the sealed fields read as :data:`events.base.ERASED` from then on.

The keys live in the database (``person_keys``) behind the small :class:`KeyStore` port
(:mod:`adapters.store.person_keys`), so another store (a KMS, a vault) can be plugged in
by passing it to the event store.
"""

from __future__ import annotations

import _json
import base64
import binascii
import hashlib
import json
import os
import re
import secrets
from binascii import a2b_base64
from collections.abc import Iterable
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from adapters.store.person_keys import DbKeyStore, KeyStore, MemoryKeyStore
from core.phones import PERSON_PREFIX, is_person_id
from events.base import ERASED, erased_value, personal_fields
from events.codec import SEALED, set_opener

_CONVERSATION = "conversation-"
_KEY_BYTES = 32  # AES-256
_NONCE_BYTES = 12


def new_person_id() -> str:
    """A fresh random person id (96 bits): it says nothing about the person."""
    return PERSON_PREFIX + secrets.token_hex(12)


class People:
    """The one mapping from phones to person ids, and the sealing of personal fields.

    Keys and subjects of people seen are cached in memory (a person's key never changes;
    an erased person is cached as gone). Another process's erasure is seen here after
    :meth:`forget_cached` or a restart (docs/adr/0007-crypto-shredding.md).
    """

    def __init__(self, keys: KeyStore) -> None:
        self.keys = keys
        # Shared by every instance in the process (person ids are random, so unique), so
        # the operator tools' raw readers open what the store sealed (see open_sealed).
        self._by_subject: dict[str, str] = {}  # per database: tests hold several at once
        self._subject = _RING.subject
        self._aead = _RING.aead
        self._raw = _RING.raw

    # -- the mapping --------------------------------------------------------------------

    async def person_of(self, subject: str) -> str:
        """The person id of ``subject`` (a phone or ``bsuid:`` key), created on first use."""
        if is_person_id(subject):
            return subject
        pid = self._by_subject.get(subject)
        if pid is not None and self._aead.get(pid) is not None:
            return pid
        # Create-or-get in one (batched) step: an existing row wins and is returned.
        found = await self.keys.create(subject, new_person_id(), os.urandom(_KEY_BYTES))
        self._remember(found[0], subject, found[1])
        return found[0]

    async def stream_of(self, stream: str) -> str:
        """``stream`` named by the person id when it is a conversation named by a phone.

        The one mapping every writer that derives a stream from a phone goes through.
        """
        key = stream.removeprefix(_CONVERSATION)
        if key == stream or is_person_id(key):
            return stream
        return _CONVERSATION + await self.person_of(key)

    async def find(self, subject: str) -> str | None:
        """The person id of ``subject`` when it has one (never creates one)."""
        if is_person_id(subject):
            return subject
        pid = self._by_subject.get(subject)
        if pid is not None and self._aead.get(pid) is not None:
            return pid
        found = await self.keys.find(subject)
        if found is None:
            return None
        self._remember(found[0], subject, found[1])
        return found[0]

    async def subject_of(self, key: str) -> str | None:
        """The phone (or ``bsuid:`` key) behind a conversation key; None once erased.

        A key that is not a person id (a stream named before pseudonyms) is its own subject.
        """
        if not is_person_id(key):
            return key
        await self.load([key])
        return self._subject.get(key)

    def known_subject(self, key: str) -> str:
        """:meth:`subject_of` from memory only (the key itself when not loaded)."""
        return self._subject.get(key, key)

    async def load(self, person_ids: Iterable[str]) -> None:
        """Fetch the keys of ``person_ids`` not in memory yet (one query)."""
        missing = [p for p in person_ids if p not in self._aead]
        if not missing:
            return
        found = await self.keys.load(missing)
        for pid in missing:
            held = found.get(pid)
            if held is None:
                self._aead[pid] = None
            else:
                self._remember(pid, held[0], held[1])

    async def erase(self, person_id: str) -> bool:
        """Delete the person's key and mapping for good; False when unknown."""
        subject = self._subject.pop(person_id, None)
        if subject is not None:
            self._by_subject.pop(subject, None)
        self._aead[person_id] = None
        self._raw.pop(person_id, None)
        return await self.keys.delete(person_id)

    def forget_cached(self) -> None:
        """Drop every cached key (another process may have erased someone)."""
        self._by_subject.clear()
        for held in (_RING.subject, _RING.aead, _RING.raw):
            held.clear()
        self._subject.clear()
        self._aead.clear()
        self._raw.clear()

    def _remember(self, pid: str, subject: str, key: bytes) -> None:
        self._by_subject[subject] = pid
        self._subject[pid] = subject
        self._aead[pid] = AESGCM(key)
        self._raw[pid] = key

    def needs_load(self, person_ids: Iterable[str]) -> bool:
        """True when some of ``person_ids`` are not in memory yet."""
        return any(p not in self._aead for p in person_ids)

    # -- sealing ------------------------------------------------------------------------

    def seal(self, type_name: str, data: dict[str, Any], people: tuple[str, ...]) -> None:
        """Move the personal fields of ``data`` into one sealed value, in place.

        ``people`` must have been loaded. A field that is None or empty says nothing and
        stays in clear. When
        a person is already erased their fields are stored as erased.
        """
        names = personal_fields(type_name)
        clear = {n: data.pop(n) for n in names if data.get(n) not in _EMPTY}
        if not clear:
            return
        aead = self._cipher(people)
        if aead is None:
            data.update({n: _erased_json(type_name, n) for n in clear})
            return
        nonce = os.urandom(_NONCE_BYTES)
        plain = "".join(_dumps(clear, 0)).encode()
        sealed = aead.encrypt(nonce, plain, _aad(type_name, people))
        data[SEALED] = {"p": list(people), "c": base64.b64encode(nonce + sealed).decode()}

    def unseal(self, type_name: str, data: dict[str, Any]) -> dict[str, Any]:
        """``data`` with its sealed fields back in clear, or as erased (keys must be loaded).

        Called for every sealed event read (replay reads thousands): the common case, one
        person with a loaded key, takes no detours.
        """
        sealed = data.pop(SEALED)
        try:
            people = sealed["p"]
            blob = a2b_base64(sealed["c"])
            one = people[0] if len(people) == 1 else None
        except (KeyError, TypeError, ValueError, IndexError, binascii.Error) as exc:
            raise ValueError(f"sealed personal fields are malformed: {exc}") from exc
        aead = self._aead.get(one, _NOT_LOADED) if one is not None else self._several(people)
        if aead is _NOT_LOADED:
            raise ValueError(f"the keys of {list(people)} were not loaded before decoding")
        if aead is None:
            names = personal_fields(type_name)
            data.update({n: _erased_json(type_name, n) for n in names if n not in data})
            return data
        aad = _AAD.get((type_name, one)) if one is not None else None
        if aad is None:
            aad = _aad(type_name, tuple(people))
        try:
            plain = aead.decrypt(blob[:_NONCE_BYTES], blob[_NONCE_BYTES:], aad)
            opened = _scan(plain.decode(), 0)[0]
        except InvalidTag as exc:
            raise ValueError("sealed personal fields fail authentication") from exc
        except (StopIteration, UnicodeDecodeError) as exc:
            raise ValueError(f"sealed personal fields are not JSON: {exc}") from exc
        data.update(opened)
        return data

    def _several(self, people: Any) -> Any:
        if not isinstance(people, list) or any(p not in self._aead for p in people):
            return _NOT_LOADED
        return self._cipher(tuple(people))

    def _cipher(self, people: tuple[str, ...]) -> AESGCM | None:
        if len(people) == 1:
            return self._aead.get(people[0])
        if any(self._aead.get(p) is None for p in people):
            return None  # one of them is erased: the body names them, so it goes too
        combined = hashlib.sha256(b"dloop-multi-person-key")
        for pid in people:
            combined.update(self._raw[pid])
        return AESGCM(combined.digest())


class _Ring:
    """The process's keys of people seen: person id -> cipher (None: erased), key, subject."""

    def __init__(self) -> None:
        self.aead: dict[str, AESGCM | None] = {}
        self.raw: dict[str, bytes] = {}
        self.subject: dict[str, str] = {}


_RING = _Ring()
_OPENER = People(MemoryKeyStore())  # unseals with the shared ring (keys loaded by readers)


def latest_person_of(subject: str) -> str | None:
    """The person id this process most recently met for ``subject`` (tests, diagnostics).

    Only what is in memory, across every database the process opened: the store's
    :meth:`People.find` is the lookup to use in code.
    """
    found = [p for p, s in _RING.subject.items() if s == subject and _RING.aead.get(p)]
    return found[-1] if found else None


def open_sealed(type_name: str, data: dict[str, Any]) -> dict[str, Any]:
    """The codec's hook (:func:`events.codec.set_opener`): unseal a stored ``data`` object.

    The keys must have been loaded (:meth:`People.load`) by the reader that fetched it.
    """
    return _OPENER.unseal(type_name, data)


_EMPTY: tuple[Any, ...] = (None, "", [], {})


# The person ids of a sealed value, read from the stored text before it is parsed (the
# store writes ``"~":{"p":[...],...}`` compactly), so that their keys are fetched at once.
_SEALED_MARK = '"' + SEALED + '":{"p":['
_PERSON_IDS = re.compile(r'"(prs_[0-9a-f]+)"')


def sealed_people_in(texts: Iterable[Any]) -> set[str]:
    """The person ids the stored ``data`` texts are sealed for (without parsing them)."""
    found: set[str] = set()
    for data in texts:
        if type(data) is str and _SEALED_MARK in data:
            start = data.index(_SEALED_MARK) + len(_SEALED_MARK)
            found.update(_PERSON_IDS.findall(data, start, data.find("]", start)))
    return found


def _aad(type_name: str, people: tuple[str, ...]) -> bytes:
    aad = (type_name + "|" + ",".join(people)).encode()
    if len(people) == 1 and len(_AAD) < 100_000:
        _AAD[(type_name, people[0])] = aad
    return aad


_AAD: dict[tuple[str, str], bytes] = {}  # (type, person) -> associated data, built once
_NOT_LOADED: Any = object()
_scan = _json.make_scanner(json.JSONDecoder())  # type: ignore[arg-type]  # typeshed: duck type
# json.dumps(v, ensure_ascii=False, separators=(",", ":")) without a new encoder per call
_dumps = _json.make_encoder(
    None,
    json.JSONEncoder().default,
    _json.encode_basestring,
    None,
    ":",
    ",",
    False,
    False,
    True,
)


def _erased_json(type_name: str, name: str) -> Any:
    value = erased_value(type_name, name)
    return list(value) if isinstance(value, tuple) else value


set_opener(open_sealed)

# The key stores live in adapters.store.person_keys; named here for the event store.
__all__ = ["ERASED", "SEALED", "DbKeyStore", "KeyStore", "MemoryKeyStore", "People"]
