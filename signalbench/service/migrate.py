"""Alembic, run only by an explicit command (``signalbench db upgrade``), with its own version table.

The server never migrates by itself: :func:`check_schema` refuses a database that is not at the newest revision and
names the command to run. The version table is ``signalbench_alembic_version``, so a database shared with another
tool's Alembic history (its ``alembic_version``) is left alone.
"""

from __future__ import annotations

from importlib import resources

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine

VERSION_TABLE = "signalbench_alembic_version"


class SchemaError(ValueError):
    """The database is not at the revision this code needs (the message names the command that fixes it)."""


def _config(engine: Engine, connection=None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(resources.files("signalbench.service") / "migrations"))
    cfg.attributes["connection"] = connection
    return cfg


def head() -> str:
    """The newest revision of the code."""
    cfg = Config()
    cfg.set_main_option("script_location", str(resources.files("signalbench.service") / "migrations"))
    return ScriptDirectory.from_config(cfg).get_current_head()


def current(engine: Engine) -> str | None:
    """The database's revision (None: never upgraded)."""
    with engine.connect() as conn:
        return MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE}).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> str | None:
    """Migrate the database to ``revision``; returns the revision it is at afterwards."""
    with engine.begin() as conn:
        command.upgrade(_config(engine, conn), revision)
    return current(engine)


def downgrade(engine: Engine, revision: str) -> str | None:
    """Migrate the database back to ``revision`` (``"base"``: no tables)."""
    with engine.begin() as conn:
        command.downgrade(_config(engine, conn), revision)
    return current(engine)


def check_schema(engine: Engine, url_text: str) -> None:
    """Raise :class:`SchemaError` unless the database is at the newest revision (it is never migrated here)."""
    found, want = current(engine), head()
    if found != want:
        at = "no signalbench tables" if found is None else f"revision {found}"
        raise SchemaError(
            f"--db: expected a database at schema revision {want}, got {at} at {url_text}; "
            f"run `signalbench db upgrade --db {url_text}` first (the server never migrates by itself)"
        )
