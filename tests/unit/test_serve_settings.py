"""The settings of the web/worker split and of ingestion backpressure: defaults and errors."""

from __future__ import annotations

import pytest

from adapters.settings import SettingsError, load_settings


def test_defaults_one_process_and_bound_waiting_deliveries() -> None:
    """Unset: ``serve`` is one process, 1,024 deliveries may wait for the group commit."""
    s = load_settings({})
    assert (s.role, s.serve_split, s.ingest_max_pending) == ("all", False, 1024)


def test_the_worker_role_and_the_split_are_accepted() -> None:
    """``DLOOP_ROLE=worker`` and ``SERVE_SPLIT=1`` are read as written."""
    settings = load_settings({"DLOOP_ROLE": "worker", "SERVE_SPLIT": "1"})
    assert (settings.role, settings.serve_split) == ("worker", True)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"INGEST_MAX_PENDING": "0"}, "INGEST_MAX_PENDING must be between 1 and 1000000, got 0"),
        ({"INGEST_MAX_PENDING": "many"}, "INGEST_MAX_PENDING must be a whole number, got 'many'"),
        ({"SERVE_SPLIT": "sometimes"}, "SERVE_SPLIT must be true or false, got 'sometimes'"),
        ({"DLOOP_ROLE": "reactor"}, "DLOOP_ROLE must be one of all, web, worker, got 'reactor'"),
    ],
)
def test_bad_values_name_the_variable(env: dict[str, str], message: str) -> None:
    """Each bad value is a settings error naming the variable and what it expects."""
    with pytest.raises(SettingsError, match=message):
        load_settings(env)
