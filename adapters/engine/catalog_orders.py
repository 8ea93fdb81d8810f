"""WhatsApp catalog ``order`` messages, on the one runner: the catalog cart becomes a cart.

The rules are the pure :data:`~core.catalog_orders.CATALOG_ORDERS` decider (lines mapped
by ``product_retailer_id``, unknown ids, other prices and sold-out products reported and
left out, the cart then following the path of a typed order: Confermo / Modifica /
Annulla, and the order reactor starts one relay per dealer on the ``CartProposed``).
This shell only loads the conversation's kept state, hands the decider the catalogue in
force and ids derived from the message, and appends. The ``CatalogOrderChecked`` marker
makes the handling idempotent: the kept state skips a message already read, and the
events' ids derive from the message, so a second append of the same decision is a no-op.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Never

from adapters.engine.runner import Process, run
from adapters.engine.stream_cache import Folding, StreamCache
from adapters.store.event_store import EventStore
from adapters.store.types import Expect
from core.catalog import Catalog
from core.catalog_orders import (
    CATALOG_ORDERS,
    CatalogDesk,
    CatalogEvent,
    CatalogOrder,
    evolve_desk,
)
from events.base import Metadata, NewEvent, RecordedEvent
from events.market import CatalogOrderChecked

CATALOG_NAMESPACE = uuid.UUID("e1b7c5d2-94a0-4f3e-8c61-2d5a7b9f0e38")


def _ids(_stream: str, _desk: CatalogDesk, order: CatalogOrder) -> Iterator[str]:
    """The cart id and the reply's outbound id, derived from the message (as before)."""
    yield str(uuid.uuid5(CATALOG_NAMESPACE, f"{order.fact_id}:cart"))
    yield str(uuid.uuid5(CATALOG_NAMESPACE, f"{order.fact_id}:reply"))


class CatalogOrderDesk:
    """Turns catalog orders into proposed carts (see the module docstring)."""

    def __init__(
        self, store: EventStore, catalog: Callable[[], Catalog], *, capacity: int = 1_000
    ) -> None:
        self.store, self.catalog = store, catalog
        folding: Folding[CatalogDesk] = Folding(
            CATALOG_ORDERS.initial, lambda desk, e: evolve_desk(desk, e.payload)
        )
        self.desks = StreamCache(store, folding, capacity=capacity)
        self.process: Process[CatalogDesk, CatalogOrder, CatalogEvent, Never] = Process(
            name="catalog-order",
            decider=CATALOG_ORDERS,
            load=self.desks.load,
            append=self._append,
            ids=_ids,
        )

    async def handle(self, stream: str, fact: RecordedEvent) -> None:
        """Read one ``order`` message of a customer stream, once, on the runner."""
        order = CatalogOrder(
            fact_id=str(fact.event_id), message=fact.payload, catalog=self.catalog()
        )
        await run(self.process, stream, order)

    async def _append(self, stream: str, _version: int, events: tuple[CatalogEvent, ...]) -> None:
        """Append with ``Expect.ANY``, as the dealer desk does on the dealer's own stream.

        The event ids derive from the message (the marker's ``fact_id``), so appending the
        same decision twice stores it once; a conflict cannot arise here.
        """
        fid = next(e.fact_id for e in events if isinstance(e, CatalogOrderChecked))
        batch = [
            NewEvent(
                event_id=uuid.uuid5(CATALOG_NAMESPACE, f"{fid}:{i}"),
                payload=p,
                metadata=Metadata(causation_id=fid, source="reactor:orders"),
            )
            for i, p in enumerate(events)
        ]
        await self.store.append(stream, Expect.ANY, batch)
