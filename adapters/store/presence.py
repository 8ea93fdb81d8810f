"""Whether ``DATABASE_URL`` names a database that exists, without creating one.

Opening a SQLite URL creates the file (and its folder), so an operator tool run from the
wrong folder used to create an empty ``var/dloop.db`` and report nothing. Only ``serve``
and ``migrate`` may create a database; every other command asks here first and refuses
with the path it looked at. PostgreSQL never creates a database on connect; its errors
are reported by the command line with the URL (password hidden).
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import make_url

from adapters.store.engine import StoreConfigError, parse_database_url


def missing_database(raw_url: str, folder: Path | None = None) -> str | None:
    """None when the database exists (or is not a file); else a one-line refusal."""
    try:
        url = parse_database_url(raw_url)
    except StoreConfigError:
        return None  # the command reports the bad URL itself
    if url.drivername != "sqlite+aiosqlite" or url.database is None:
        return None
    path = Path(url.database)
    where = path if path.is_absolute() else (folder or Path.cwd()) / path
    if where.is_file():
        return None
    return (
        f"no database at {where} (DATABASE_URL={raw_url}); "
        "create it with `dloop-bot migrate`, or set DATABASE_URL (environment or ./.env)"
    )


def shown(raw_url: str) -> str:
    """``raw_url`` fit for a message: the password hidden."""
    try:
        return make_url(raw_url).render_as_string(hide_password=True)
    except Exception:
        return "DATABASE_URL"
