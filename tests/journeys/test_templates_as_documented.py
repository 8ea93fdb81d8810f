"""The templates the service really sends read as ``docs/deploy.md`` registers them.

A dealer who never wrote to us gets ``dloop_nuovo_ordine``; its three parameters, put
into the guide's body, must name the order number, the items and the total the customer
was told, in that order (Meta fills ``{{1}}``, ``{{2}}``, ``{{3}}`` by position only).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable

import pytest

from tests.docs.guide_templates import read_as_sent
from tests.journeys.conftest import CUSTOMER, PET, Journey, body

pytestmark = pytest.mark.e2e
Start = Callable[..., Awaitable[Journey]]


async def test_the_new_order_template_fills_the_guide_body_in_order(
    journey_factory: Start,
) -> None:
    """Number, items and total with delivery land where the registered body puts them."""
    j = await journey_factory()
    await j.say(CUSTOMER, "Vorrei 2 crocchette per cane e una lettiera")
    await j.confirm(CUSTOMER)
    told = body(await j.next_to(CUSTOMER, 0, contains="è stato inviato al negozio"))
    sent = (await j.next_to(PET, 0)).payload
    assert sent["type"] == "template"  # the dealer has never written: outside the window
    text = read_as_sent(sent["template"])
    found = re.search(r"ordine (n\. \d+) \([^,]+, (€ [\d.,]+)\)", told)
    assert found is not None, told
    label, total = found.groups()
    summary = next(body(m) for m in j.sent(CUSTOMER) if "Totale con consegna" in body(m))
    items = "; ".join(re.findall(r"^• (\d+ × .+?): €", summary, re.M))
    assert items.startswith("2 × Crocchette")
    assert text.splitlines()[:3] == [
        f"Nuovo ordine Dloop {label}:",
        items,
        f"Totale con consegna: {total}",
    ]
