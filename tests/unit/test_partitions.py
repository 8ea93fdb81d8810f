"""Partitions: a stable hash of the stream, fair shares, and the settings that name them."""

from __future__ import annotations

import hashlib

import pytest

from adapters.settings import SettingsError, load_settings
from core.partitions import PartitionCountError, check_count, fair_share, partition_of


def test_the_partition_is_blake2bs_first_eight_bytes_modulo_the_count() -> None:
    """Pinned values, not Python's salted ``hash``: a change would move existing streams."""
    names = ("a", "conversation-prs_1", "orders")
    assert [partition_of(s, 16) for s in names] == [
        int.from_bytes(hashlib.blake2b(s.encode(), digest_size=8).digest(), "big") % 16
        for s in names
    ]
    assert partition_of("a", 16) == 15
    assert partition_of("a", 1) == 0


def test_streams_spread_over_every_partition() -> None:
    """A thousand streams reach all 16 partitions, none with more than twice its share."""
    counts = [0] * 16
    for i in range(1000):
        counts[partition_of(f"conversation-39{i:08d}", 16)] += 1
    assert min(counts) > 0
    assert max(counts) < 2 * 1000 / 16


@pytest.mark.parametrize(
    ("count", "workers", "share"), [(16, 1, 16), (16, 2, 8), (16, 3, 6), (16, 20, 1), (16, 0, 16)]
)
def test_a_fair_share_is_the_ceiling_of_partitions_over_workers(
    count: int, workers: int, share: int
) -> None:
    """ceil(P / workers); no live worker counted means one (this one)."""
    assert fair_share(count, workers) == share


def test_a_partition_count_out_of_range_is_refused() -> None:
    """0 and 1025 partitions are refused with the range in the message."""
    for bad in (0, 1025):
        with pytest.raises(PartitionCountError, match="between 1 and 1024"):
            check_count(bad)


def test_dloop_partitions_defaults_to_16_and_is_validated() -> None:
    """DLOOP_PARTITIONS: 16 by default, a whole number in range otherwise."""
    assert load_settings({}).event_partitions == 16
    assert load_settings({"DLOOP_PARTITIONS": "32"}).event_partitions == 32
    with pytest.raises(SettingsError, match="DLOOP_PARTITIONS must be between 1 and 1024"):
        load_settings({"DLOOP_PARTITIONS": "0"})
    with pytest.raises(SettingsError, match="DLOOP_PARTITIONS must be a whole number"):
        load_settings({"DLOOP_PARTITIONS": "many"})


def test_dloop_role_accepts_worker_and_refuses_others() -> None:
    """worker, web and all are roles; anything else names the choices."""
    assert load_settings({"DLOOP_ROLE": "worker"}).role == "worker"
    with pytest.raises(SettingsError, match="DLOOP_ROLE must be one of all, web, worker"):
        load_settings({"DLOOP_ROLE": "reader"})
