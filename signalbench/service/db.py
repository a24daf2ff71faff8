"""The service's tables (SQLAlchemy Core), its engine and the schema check.

The tables are the shape of the newest Alembic revision (:mod:`signalbench.service.migrations`); a change here is a
new revision there. Time series (equity, returns, predictions of a run) stay in the run folder's Parquet files: the
database holds the summary metrics, the params and the paths.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import (
    JSON,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    create_engine,
    event,
)
from sqlalchemy.engine import Engine

metadata = MetaData()

runs = Table(
    "runs",
    metadata,
    Column("pk", Integer, primary_key=True, autoincrement=True),
    Column("id", String(200), nullable=False, unique=True),  # the run folder's name under the runs folder
    Column("name", String(200), nullable=False),  # the experiment's name
    Column("status", String(20), nullable=False),
    Column("data", Text, nullable=False, default=""),  # what the data were (metrics.json "data")
    Column("data_kind", String(40), nullable=False, default=""),
    Column("data_version", String(64), nullable=False, default=""),  # hash of the config's data table
    Column("code_version", String(80), nullable=False, default=""),  # signalbench version + git commit
    Column("config", JSON, nullable=False),
    Column("config_hash", String(64), nullable=False),
    Column("submitted_by", String(100), nullable=False, default=""),
    Column("created_at", Float, nullable=False),  # UTC seconds since the epoch
    Column("imported_at", Float, nullable=False),
    Index("ix_runs_created", "created_at", "pk"),
    Index("ix_runs_status", "status"),
    Index("ix_runs_config_hash", "config_hash"),
)

#: One row per run x column x metric; ``column`` "*" holds the best (highest) value over the run's model columns.
run_metrics = Table(
    "run_metrics",
    metadata,
    Column("run_pk", Integer, ForeignKey("runs.pk", ondelete="CASCADE"), nullable=False),
    Column("column", String(200), nullable=False),
    Column("name", String(100), nullable=False),
    Column("value", Float, nullable=True),
    UniqueConstraint("run_pk", "column", "name", name="uq_run_metrics"),
    Index("ix_run_metrics_sort", "name", "column", "value", "run_pk"),
)

#: One row per run x param (the resolved config flattened: ``labels.horizon``, ``models[0].seq_len``), typed.
run_params = Table(
    "run_params",
    metadata,
    Column("run_pk", Integer, ForeignKey("runs.pk", ondelete="CASCADE"), nullable=False),
    Column("key", String(200), nullable=False),
    Column("number", Float, nullable=True),
    Column("text", Text, nullable=True),
    UniqueConstraint("run_pk", "key", name="uq_run_params"),
    Index("ix_run_params_number", "key", "number"),
    Index("ix_run_params_text", "key", "text"),
)

run_symbols = Table(
    "run_symbols",
    metadata,
    Column("run_pk", Integer, ForeignKey("runs.pk", ondelete="CASCADE"), nullable=False),
    Column("symbol", String(40), nullable=False),
    UniqueConstraint("run_pk", "symbol", name="uq_run_symbols"),
    Index("ix_run_symbols", "symbol"),
)

models = Table(
    "models",
    metadata,
    Column("pk", Integer, primary_key=True, autoincrement=True),
    Column("run_pk", Integer, ForeignKey("runs.pk", ondelete="CASCADE"), nullable=False),
    Column("name", String(200), nullable=False),  # "<model>@<run id>"
    Column("model", String(100), nullable=False),
    Column("params", JSON, nullable=False),
    Column("features", JSON, nullable=False),  # the saved feature names, in order
    Column("path", Text, nullable=False),  # relative to the runs folder
    UniqueConstraint("name", name="uq_models_name"),
    Index("ix_models_model", "model"),
)

jobs = Table(
    "jobs",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("config", JSON, nullable=False),
    Column("state", String(20), nullable=False),  # queued, running, done, failed, cancelled
    Column("progress", Text, nullable=False, default=""),
    Column("error", Text, nullable=False, default=""),
    Column("attempts", Integer, nullable=False, default=0),
    Column("idempotency_key", String(200), nullable=True, unique=True),
    Column("run_id", String(200), nullable=True),
    Column("submitted_by", String(100), nullable=False, default=""),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
    Index("ix_jobs_state", "state", "created_at"),
)

predictions = Table(
    "predictions",
    metadata,
    Column("pk", Integer, primary_key=True, autoincrement=True),
    Column("event_id", String(100), nullable=True),
    Column("model", String(200), nullable=False),
    Column("probabilities", JSON, nullable=False),
    Column("created_at", Float, nullable=False),
    Index("ix_predictions_model", "model", "created_at"),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", String(32), primary_key=True),  # the public part of the key
    Column("name", String(100), nullable=False),
    Column("hash", String(64), nullable=False),  # sha256 of the secret part
    Column("scopes", String(100), nullable=False),  # "read,write,admin"
    Column("created_at", Float, nullable=False),
    Column("revoked", Integer, nullable=False, default=0),
)


def default_url(runs_dir: str | Path) -> str:
    """The embedded default: a SQLite file beside the runs folder (``<runs>/../signalbench.sqlite``)."""
    return f"sqlite:///{Path(runs_dir).resolve().parent / 'signalbench.sqlite'}"


def make_engine(url: str) -> Engine:
    """An engine for ``url``; a SQLite database gets WAL mode, foreign keys and a busy timeout on every connection."""
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    if not url.startswith("sqlite"):
        return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)
    engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection, _record) -> None:
        cur = dbapi_connection.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    return engine
