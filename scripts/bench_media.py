"""Benchmark: what the media rewrite adds to every turn, as ratios in the same run.

``python -m scripts.bench_media [--number N]``: the pure ``core.media.prepare`` on a text
turn and on a shared location with a delivery area, and the haversine distance alone,
each against ``CustomerTurn.of`` (the turn every message already pays for). Best of five
repeats; nothing here touches a database or the network.
"""

from __future__ import annotations

import argparse
import timeit
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from core import media
from core.area import distance_m, parse_area
from core.conversation import ConversationState, CustomerTurn
from events.whatsapp import Location, MessageReceived

AT = datetime(2026, 12, 5, tzinfo=UTC)


def _fact(kind: str, **parts: Any) -> MessageReceived:
    return MessageReceived(
        wamid=f"w-{kind}", wa_id="39", phone="+39", bsuid=None, kind=kind, sent_at=AT, **parts
    )


def _best(call: Callable[[], object], number: int) -> float:
    return min(timeit.repeat(call, number=number, repeat=5)) / number


def main(argv: list[str] | None = None) -> int:
    """Print per-call microseconds and the ratio to ``CustomerTurn.of``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--number", type=int, default=20_000)
    args = parser.parse_args(argv)
    text = _fact("text", text="Vorrei 2 crocchette per cane")
    place = Location(latitude=Decimal("45.4781"), longitude=Decimal("9.2270"))
    located = _fact("location", location=place)
    around = media.Surroundings(
        state=ConversationState(key="+39"), history=(), area=parse_area("45.4642,9.1900,5km")
    )
    base = _best(lambda: CustomerTurn.of([text]), args.number)
    rows = [
        ("CustomerTurn.of(text) [baseline]", base),
        ("media.prepare(text)", _best(lambda: media.prepare([text], {}, around), args.number)),
        (
            "media.prepare(location, area)",
            _best(lambda: media.prepare([located], {}, around), args.number),
        ),
        (
            "distance_m (haversine)",
            _best(lambda: distance_m(45.46, 9.19, 45.48, 9.23), args.number),
        ),
    ]
    for name, seconds in rows:
        print(f"{name:34} {seconds * 1e6:8.2f} us  {seconds / base:5.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
