"""Catalogue and contact imports from files (JSON or CSV), recorded as events.

Reading and appending live here; validation and the diff against what is recorded are
pure (:mod:`core.market_import`). Appends expect the stream's version, so two imports
at once cannot interleave; a re-import of the same file records nothing.
"""

from __future__ import annotations

import csv
import io
import json
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from adapters.market.live import CATALOG_STREAM, CONTACTS_STREAM
from adapters.store.event_store import EventStore
from core.catalog import Catalog
from core.market import Directory, fold_catalog
from core.market_import import ImportPlan, RowError, plan_catalog_import, plan_contacts_import
from events.base import Metadata, NewEvent
from events.market import ContactUpserted

IMPORT_NAMESPACE = uuid.UUID("4d8f2b6a-0c3e-4a71-9b5d-e7f1a3c5b926")


class ImportFileError(ValueError):
    """The file cannot be read at all (missing, not JSON/CSV, wrong shape)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ImportReport:
    """What an import did."""

    recorded: int
    unchanged: int
    errors: tuple[RowError, ...]


def read_rows(path: Path) -> list[dict[str, Any]] | dict[str, Any]:
    """A JSON document, or CSV rows as dictionaries (by the file's suffix)."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise ImportFileError(f"cannot read {path}: {exc.strerror or exc}") from exc
    if path.suffix.lower() == ".csv":
        return [dict(row) for row in csv.DictReader(io.StringIO(text))]
    try:
        document = json.loads(text)
    except ValueError as exc:
        raise ImportFileError(f"{path} is not valid JSON: {exc}") from exc
    if not isinstance(document, dict | list):
        raise ImportFileError(f"{path}: expected a JSON object or list")
    return document


def catalog_rows(document: list[dict[str, Any]] | dict[str, Any]) -> tuple[list[Any], list[Any]]:
    """``(dealers, products)``: JSON like ``catalog_demo.json``, or CSV product rows."""
    if isinstance(document, list):
        return [], [_csv_product(row) for row in document]
    dealers, products = document.get("dealers") or [], document.get("products") or []
    if not isinstance(dealers, list) or not isinstance(products, list):
        raise ImportFileError("'dealers' and 'products' must be lists")
    return dealers, products


def _csv_product(row: dict[str, Any]) -> dict[str, Any]:
    out = dict(row)
    for key in ("tags", "aliases"):
        if key in row:  # a file without an aliases column keeps the recorded aliases
            joined = str(row.get(key) or "")
            out[key] = [t.strip() for t in joined.replace(";", "|").split("|") if t.strip()]
    stock = str(row.get("stock") or "0").strip()
    out["stock"] = int(stock) if stock.isdigit() else stock
    return out


async def current_catalog(store: EventStore, base: Catalog) -> tuple[Catalog, int]:
    """The catalogue file with the recorded events folded in, and the stream version."""
    events = await store.read_stream(CATALOG_STREAM)
    return fold_catalog(base, [e.payload for e in events]), len(events)


async def current_directory(store: EventStore) -> tuple[Directory, int]:
    """The recorded contacts and the stream version."""
    directory = Directory()
    events = await store.read_stream(CONTACTS_STREAM)
    for e in events:
        if isinstance(e.payload, ContactUpserted):
            directory = directory.with_contact(e.payload)
    return directory, len(events)


async def import_catalog(store: EventStore, base: Catalog, path: Path) -> ImportReport:
    """Import a catalogue file; valid rows are recorded, invalid ones reported."""
    dealers, products = catalog_rows(read_rows(path))
    catalog, version = await current_catalog(store, base)
    plan = plan_catalog_import(dealers, products, catalog)
    return await _record(store, CATALOG_STREAM, version, plan)


async def import_contacts(store: EventStore, base: Catalog, path: Path) -> ImportReport:
    """Import a contacts file (``rider_contacts`` rows)."""
    document = read_rows(path)
    rows = document.get("contacts") if isinstance(document, dict) else document
    if not isinstance(rows, list):
        raise ImportFileError("expected a list of contacts (or {'contacts': [...]})")
    catalog, _ = await current_catalog(store, base)
    directory, version = await current_directory(store)
    plan = plan_contacts_import(rows, directory, catalog)
    return await _record(store, CONTACTS_STREAM, version, plan)


async def _record(store: EventStore, stream: str, version: int, plan: ImportPlan) -> ImportReport:
    if plan.events:
        batch = [
            NewEvent(
                event_id=uuid.uuid5(IMPORT_NAMESPACE, f"{stream}:{version}:{i}"),
                payload=p,
                metadata=Metadata(source="cli"),
            )
            for i, p in enumerate(plan.events)
        ]
        await store.append(stream, version, batch)
    return ImportReport(recorded=len(plan.events), unchanged=plan.unchanged, errors=plan.errors)
