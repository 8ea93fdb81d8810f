"""Per-user pacing: Meta's pair rate limit as a pure value, time passed in."""

from __future__ import annotations

import pytest

from core.pacing import Pacer

ANNA, BRUNO = "393281234567", "393471112233"


def sends(pacer: Pacer, to: str, now: float, n: int) -> tuple[Pacer, list[float]]:
    """Take ``n`` tokens for ``to`` at ``now``; the waits asked for, one per try."""
    waits = []
    for _ in range(n):
        pacer, wait = pacer.take(to, now)
        waits.append(wait)
    return pacer, waits


def test_a_short_burst_goes_out_then_one_message_per_interval() -> None:
    """Three at once, the fourth waits a whole interval (one every 6 s by default)."""
    pacer, waits = sends(Pacer.of(80.0), ANNA, 100.0, 4)
    assert waits[:3] == [0.0, 0.0, 0.0]
    assert waits[3] == pytest.approx(6.0)
    _, later = sends(pacer, ANNA, 106.0, 1)
    assert later == [0.0]


def test_people_are_paced_apart() -> None:
    """Another recipient is not slowed down by the first one's burst."""
    pacer, _ = sends(Pacer.of(80.0, burst=1), ANNA, 100.0, 1)
    _, waits = sends(pacer, BRUNO, 100.0, 1)
    assert waits == [0.0]


def test_the_number_bucket_caps_everyone_together() -> None:
    """Past the number's throughput, a new recipient waits too."""
    pacer = Pacer.of(2.0)
    pacer, _ = sends(pacer, ANNA, 100.0, 1)
    pacer, _ = sends(pacer, BRUNO, 100.0, 1)
    _, waits = sends(pacer, "393395556677", 100.0, 1)
    assert waits[0] == pytest.approx(0.5)


def test_a_refused_take_leaves_both_buckets_untouched() -> None:
    """Waiting takes nothing: the pacer returned with a wait is the same value."""
    pacer, _ = sends(Pacer.of(80.0, burst=1), ANNA, 100.0, 1)
    again, wait = pacer.take(ANNA, 101.0)
    assert wait == pytest.approx(5.0)
    assert again is pacer


def test_error_131056_makes_the_next_message_wait_a_whole_interval() -> None:
    """Meta saw more than we did: that person's bucket is emptied."""
    pacer = Pacer.of(80.0).penalize(ANNA, 100.0)
    _, waits = sends(pacer, ANNA, 100.0, 1)
    assert waits[0] == pytest.approx(6.0)


def test_refilled_buckets_are_forgotten() -> None:
    """The map only holds people written to lately."""
    pacer, _ = sends(Pacer.of(80.0), ANNA, 100.0, 1)
    pacer, _ = sends(pacer, BRUNO, 200.0, 1)
    assert set(pacer.users) == {BRUNO}


def test_interval_zero_turns_pair_pacing_off() -> None:
    """A setting of 0 keeps only the number's throughput."""
    _, waits = sends(Pacer.of(80.0, interval=0.0), ANNA, 100.0, 10)
    assert waits == [0.0] * 10
