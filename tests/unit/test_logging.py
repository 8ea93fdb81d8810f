"""Log lines never carry phone numbers, message text or secrets."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import structlog

from adapters.logging import configure_logging, mask_phones


@pytest.fixture(autouse=True)
def _restore_structlog() -> Iterator[None]:
    """Each test here configures logging; put the defaults back for later tests."""
    yield
    structlog.reset_defaults()


def test_mask_phones_keeps_country_code_and_last_three_digits() -> None:
    """E.164 and bare wa_id forms are both masked."""
    assert mask_phones("+39328185464") == "+39******464"
    assert mask_phones("from 393281234567.") == "from +39******567."


def test_short_numbers_are_left_alone() -> None:
    """Counts and ids that are not phone-like stay readable."""
    assert mask_phones("batch of 1000 items in 42 ms") == "batch of 1000 items in 42 ms"


def test_json_log_line_masks_phones_and_drops_text_and_secrets(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A full JSON log line is scrubbed in every field, nested ones included."""
    configure_logging("info", "json")
    structlog.get_logger("t").info(
        "message from +393281234567",
        phone="+393281234567",
        text="Vorrei 2 pizze, il mio indirizzo è via Roma 1",
        access_token="EAAG-secret",
        app_secret="s3cret",
        nested={"to": "393331112222", "body": "ciao"},
    )
    line = capsys.readouterr().err.strip().splitlines()[-1]
    record = json.loads(line)
    assert "3281234567" not in line
    assert "3331112222" not in line
    assert "via Roma" not in line
    assert "s3cret" not in line
    assert "EAAG" not in line
    assert record["phone"] == "+39******567"
    assert record["text"] == "[dropped]"
    assert record["nested"]["body"] == "[dropped]"
