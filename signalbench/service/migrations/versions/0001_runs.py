"""Runs, their metrics, params and symbols, and their saved models.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the tables."""
    op.create_table(
        "runs",
        sa.Column("pk", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("id", sa.String(200), nullable=False, unique=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("data", sa.Text, nullable=False),
        sa.Column("data_kind", sa.String(40), nullable=False),
        sa.Column("data_version", sa.String(64), nullable=False),
        sa.Column("code_version", sa.String(80), nullable=False),
        sa.Column("config", sa.JSON, nullable=False),
        sa.Column("config_hash", sa.String(64), nullable=False),
        sa.Column("submitted_by", sa.String(100), nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("imported_at", sa.Float, nullable=False),
    )
    op.create_index("ix_runs_created", "runs", ["created_at", "pk"])
    op.create_index("ix_runs_status", "runs", ["status"])
    op.create_index("ix_runs_config_hash", "runs", ["config_hash"])
    op.create_table(
        "run_metrics",
        sa.Column("run_pk", sa.Integer, sa.ForeignKey("runs.pk", ondelete="CASCADE"), nullable=False),
        sa.Column("column", sa.String(200), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("value", sa.Float, nullable=True),
        sa.UniqueConstraint("run_pk", "column", "name", name="uq_run_metrics"),
    )
    op.create_index("ix_run_metrics_sort", "run_metrics", ["name", "column", "value", "run_pk"])
    op.create_table(
        "run_params",
        sa.Column("run_pk", sa.Integer, sa.ForeignKey("runs.pk", ondelete="CASCADE"), nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("number", sa.Float, nullable=True),
        sa.Column("text", sa.Text, nullable=True),
        sa.UniqueConstraint("run_pk", "key", name="uq_run_params"),
    )
    op.create_index("ix_run_params_number", "run_params", ["key", "number"])
    op.create_index("ix_run_params_text", "run_params", ["key", "text"])
    op.create_table(
        "run_symbols",
        sa.Column("run_pk", sa.Integer, sa.ForeignKey("runs.pk", ondelete="CASCADE"), nullable=False),
        sa.Column("symbol", sa.String(40), nullable=False),
        sa.UniqueConstraint("run_pk", "symbol", name="uq_run_symbols"),
    )
    op.create_index("ix_run_symbols", "run_symbols", ["symbol"])
    op.create_table(
        "models",
        sa.Column("pk", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("run_pk", sa.Integer, sa.ForeignKey("runs.pk", ondelete="CASCADE"), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("model", sa.String(100), nullable=False),
        sa.Column("params", sa.JSON, nullable=False),
        sa.Column("features", sa.JSON, nullable=False),
        sa.Column("path", sa.Text, nullable=False),
        sa.UniqueConstraint("name", name="uq_models_name"),
    )
    op.create_index("ix_models_model", "models", ["model"])


def downgrade() -> None:
    """Drop them."""
    for table in ("models", "run_symbols", "run_params", "run_metrics", "runs"):
        op.drop_table(table)
