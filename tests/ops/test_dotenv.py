"""``.env`` in the current folder is read; the process environment wins over it."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.dotenv import DotenvError, environment, parse_dotenv
from adapters.settings import SettingsError, load_settings
from scripts.cli import main


def test_the_env_example_format_is_understood() -> None:
    """Comments, blanks, export, quotes and inline comments as .env.example writes them."""
    text = (
        "# a comment\n\nHOST=10.0.0.5\nexport PORT=9000\nDLOOP_DELIVERY_FEE='2,90 €'\n"
        'DLOOP_OPENING_HOURS="lun-sab 9:00-20:00"\nLOG_LEVEL=debug # chatty\nEMPTY=\n'
    )
    assert parse_dotenv(text) == {
        "HOST": "10.0.0.5",
        "PORT": "9000",
        "DLOOP_DELIVERY_FEE": "2,90 €",
        "DLOOP_OPENING_HOURS": "lun-sab 9:00-20:00",
        "LOG_LEVEL": "debug",
        "EMPTY": "",
    }


def test_a_malformed_line_names_its_number() -> None:
    """A line that is not NAME=value is refused with the file and line."""
    with pytest.raises(DotenvError, match=r"\.env line 2: expected NAME=value"):
        parse_dotenv("HOST=x\nthis is not a setting\n")


def test_the_environment_wins_over_the_file(tmp_path: Path) -> None:
    """A variable set in both places takes the environment's value, even when empty."""
    (tmp_path / ".env").write_text("PORT=9000\nHOST=10.0.0.5\nLOG_LEVEL=debug\n", encoding="utf-8")
    merged = environment(tmp_path, {"PORT": "8106", "LOG_LEVEL": ""})
    assert (merged["PORT"], merged["HOST"], merged["LOG_LEVEL"]) == ("8106", "10.0.0.5", "")


def test_no_file_means_the_environment_alone(tmp_path: Path) -> None:
    """Without .env nothing is added."""
    assert environment(tmp_path, {"PORT": "1"}) == {"PORT": "1"}


def test_settings_read_the_current_folders_env(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """load_settings() sees .env values the environment does not set."""
    (tmp_path / ".env").write_text("PORT=9100\nDEBOUNCE_SECONDS=0\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PORT", raising=False)
    monkeypatch.setenv("DEBOUNCE_SECONDS", "2")
    settings = load_settings()
    assert (settings.port, settings.debounce_seconds) == (9100, 2.0)


def test_a_bad_env_file_is_a_settings_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The start fails with one line, as for any bad setting."""
    (tmp_path / ".env").write_text("= nothing\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SettingsError, match="line 1"):
        load_settings()


@pytest.mark.integration
def test_the_command_line_uses_env_and_the_environment_overrides_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """DATABASE_URL from .env is used by migrate and token list; the environment's wins."""
    from_file, from_env = tmp_path / "file.db", tmp_path / "env.db"
    (tmp_path / ".env").write_text(f"DATABASE_URL=sqlite+aiosqlite:///{from_file}\n", "utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    assert main(["migrate"]) == 0
    assert from_file.is_file()
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{from_env}")
    assert main(["token", "list"]) == 2
    assert f"no database at {from_env}" in capsys.readouterr().err
    assert not from_env.exists()
