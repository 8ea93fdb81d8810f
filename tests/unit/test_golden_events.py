"""Golden JSON samples: every registered event version still decodes, the current one exactly.

Every module under ``events/`` is imported, so an event added anywhere needs its
``tests/golden/<TYPE>@v<N>.json`` for each version 1..VERSION before this suite passes.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
from pathlib import Path
from typing import Any

import pytest

import events
from events.base import registered_events
from events.codec import decode_payload, encode_payload

GOLDEN = Path(__file__).parents[1] / "golden"

for _module in pkgutil.iter_modules(events.__path__, prefix="events."):
    importlib.import_module(_module.name)

# Only the shipped events: test-only classes (tests/support) register themselves too.
SHIPPED = {t: c for t, c in registered_events().items() if c.__module__.startswith("events.")}
VERSIONS = sorted(
    (type_name, version)
    for type_name, cls in SHIPPED.items()
    for version in range(1, cls.VERSION + 1)
)
CURRENT = sorted((type_name, cls.VERSION) for type_name, cls in SHIPPED.items())


def golden(type_name: str, version: int) -> dict[str, Any]:
    """The golden document of one event version."""
    path = GOLDEN / f"{type_name}@v{version}.json"
    document: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return document


def test_whatsapp_events_are_registered() -> None:
    """The import sweep found the inbound WhatsApp facts."""
    assert "whatsapp.message_received" in registered_events()


@pytest.mark.parametrize(("type_name", "version"), VERSIONS)
def test_every_event_version_has_a_golden_file(type_name: str, version: int) -> None:
    """A golden sample exists and names its type and version."""
    document = golden(type_name, version)
    assert (document["type"], document["schema_version"]) == (type_name, version)


@pytest.mark.parametrize(("type_name", "version"), VERSIONS)
def test_every_golden_sample_decodes(type_name: str, version: int) -> None:
    """Old and current samples decode (through upcasters) into the current class."""
    document = golden(type_name, version)
    payload = decode_payload(type_name, version, document["data"])
    assert type(payload) is registered_events()[type_name]


@pytest.mark.parametrize(("type_name", "version"), CURRENT)
def test_current_golden_sample_round_trips_exactly(type_name: str, version: int) -> None:
    """For the current version, encode(decode(data)) gives the stored data back unchanged."""
    data = golden(type_name, version)["data"]
    assert encode_payload(decode_payload(type_name, version, data)) == data
