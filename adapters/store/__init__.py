"""The event store: one SQLAlchemy async Core implementation for SQLite and PostgreSQL."""
