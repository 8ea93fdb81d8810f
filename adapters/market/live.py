"""The live catalogue and contact directory: the catalogue file plus the recorded events.

:meth:`LiveMarket.refresh` reads the ``catalog`` and ``contacts`` streams from where it
last stopped and folds them (pure folds from :mod:`core.market`). Readers get the current
values synchronously, which is what the conversation reactor's ``catalog()`` needs.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from adapters.store.event_store import EventStore
from core.catalog import Catalog
from core.market import Directory, apply_catalog_event, dealer_id_for
from events.market import ContactUpserted

CATALOG_STREAM = "catalog"
CONTACTS_STREAM = "contacts"


class LiveMarket:
    """The catalogue customers are offered and who is a dealer, kept current from the log."""

    def __init__(
        self,
        store: EventStore,
        base: Catalog,
        *,
        on_change: Callable[[Catalog], None] = lambda _c: None,
    ) -> None:
        self.store = store
        self.catalog = base
        self.directory = Directory()
        self._on_change = on_change
        self._catalog_version = 0
        self._contacts_version = 0
        self._lock = asyncio.Lock()

    async def refresh(self) -> None:
        """Fold whatever was recorded since the last refresh."""
        async with self._lock:
            events = await self.store.read_stream(
                CATALOG_STREAM, after_version=self._catalog_version
            )
            catalog = self.catalog
            for e in events:
                catalog = apply_catalog_event(catalog, e.payload)
                self._catalog_version = e.version
            contacts = await self.store.read_stream(
                CONTACTS_STREAM, after_version=self._contacts_version
            )
            for e in contacts:
                if isinstance(e.payload, ContactUpserted):
                    self.directory = self.directory.with_contact(e.payload)
                self._contacts_version = e.version
            if events:
                self.catalog = catalog
                self._on_change(catalog)

    def current(self) -> Catalog:
        """The catalogue as of the last refresh."""
        return self.catalog

    def dealer_id(self, phone: str) -> str | None:
        """The dealer writing from ``phone`` (E.164, or their person id once loaded), or None."""
        phone = self.store.people.known_subject(phone)
        return dealer_id_for(phone, self.catalog, self.directory)

    def is_dealer(self, key: str) -> bool:
        """True for a conversation key that belongs to a dealer."""
        return self.dealer_id(key) is not None
