"""Streams map to a fixed number of partitions; workers share the partitions fairly.

The partition of a stream is a stable hash of its name (BLAKE2b, the same in every
process, Python version and platform; Python's own ``hash`` is salted per process), so
it can be stored on every event row and filtered on by the database
(docs/adr/0018-partitioned-workers.md). The count is fixed for a database: changing it
would move streams between partitions and their checkpoints.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache

DEFAULT_PARTITIONS = 16
MAX_PARTITIONS = 1024  # each is one advisory lock and one checkpoint per reactor


class PartitionCountError(ValueError):
    """A partition count that is out of range or differs from the database's."""


def check_count(count: int) -> int:
    """``count`` if it is a usable partition count; :class:`PartitionCountError` otherwise."""
    if not 1 <= count <= MAX_PARTITIONS:
        raise PartitionCountError(
            f"the partition count must be between 1 and {MAX_PARTITIONS}, got {count}"
        )
    return count


@lru_cache(maxsize=65_536)
def partition_of(stream: str, count: int) -> int:
    """The partition of ``stream`` among ``count``: first 8 bytes of BLAKE2b, modulo ``count``."""
    digest = hashlib.blake2b(stream.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") % count


def fair_share(count: int, workers: int) -> int:
    """The most partitions one of ``workers`` live workers may hold: ceil(count / workers)."""
    return -(-count // max(workers, 1))
