"""The database on SQLite and on a real PostgreSQL server: Alembic under its own version table, only by command;
the server refusing an old schema; importing run folders idempotently."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, inspect, select, text

from signalbench.cli import main
from signalbench.service import db, migrate
from signalbench.service.importer import import_runs
from tests.service.conftest import write_run

FIRST = {"runs", "run_metrics", "run_params", "run_symbols", "models"}
SECOND = {"jobs", "predictions", "api_keys"}


def _tables(engine) -> set[str]:
    return set(inspect(engine).get_table_names())


def test_upgrade_from_the_first_revision_to_head_and_back(db_url):
    engine = db.make_engine(db_url)
    with engine.begin() as conn:  # another tool's Alembic history in the same database
        conn.execute(text("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)"))
        conn.execute(text("INSERT INTO alembic_version VALUES ('other_tool_head')"))
    assert migrate.upgrade(engine, "0001") == "0001"
    assert _tables(engine) >= FIRST and not (_tables(engine) & SECOND)
    with engine.begin() as conn:
        conn.execute(
            db.runs.insert().values(
                id="r1",
                name="r",
                status="done",
                data="",
                data_kind="",
                data_version="",
                code_version="",
                config={},
                config_hash="h",
                submitted_by="",
                created_at=1.0,
                imported_at=1.0,
            )
        )
    assert migrate.upgrade(engine) == migrate.head() == "0002"
    assert _tables(engine) >= FIRST | SECOND | {"signalbench_alembic_version"}
    with engine.connect() as conn:  # data kept across the upgrade; the other tool's version row untouched
        assert conn.execute(select(db.runs.c.id)).scalars().all() == ["r1"]
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == "other_tool_head"
    assert migrate.downgrade(engine, "0001") == "0001"
    assert not (_tables(engine) & SECOND) and _tables(engine) >= FIRST
    engine.dispose()


def test_the_server_refuses_an_old_schema_and_names_the_command(db_url, tmp_path, capsys):
    engine = db.make_engine(db_url)
    with pytest.raises(migrate.SchemaError, match="got no signalbench tables.*signalbench db upgrade --db"):
        migrate.check_schema(engine, db_url)
    migrate.upgrade(engine, "0001")
    with pytest.raises(migrate.SchemaError, match="revision 0002, got revision 0001"):
        migrate.check_schema(engine, db_url)
    assert migrate.current(engine) == "0001"  # checking never migrates
    assert main(["serve", "--db", db_url, "--runs", str(tmp_path / "runs"), "--port", "1"]) == 2
    err = capsys.readouterr().err
    assert "signalbench db upgrade --db" in err and "Traceback" not in err
    assert migrate.current(engine) == "0001"
    engine.dispose()


def _counts(engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {t.name: conn.execute(select(func.count()).select_from(t)).scalar() for t in db.metadata.sorted_tables}


def test_import_is_idempotent_and_refuses_a_damaged_folder_naming_the_file(engine, runs_dir):
    write_run(runs_dir, "a-20260101T000000Z", sharpe={"lstm:sign": 1.0, "lstm:threshold": 2.0})
    write_run(runs_dir, "b-20260102T000000Z", sharpe={"lstm:sign": None})
    bad = write_run(runs_dir, "c-20260103T000000Z", sharpe={"lstm:sign": 1.0})
    metrics = json.loads((bad / "metrics.json").read_text())
    metrics["columns"]["lstm:sign"]["sharpe"] = "high"
    (bad / "metrics.json").write_text(json.dumps(metrics))
    (runs_dir / ".d-20260104T000000Z.tmp-1234").mkdir()  # a run being written: not a run folder yet

    first = import_runs(engine, runs_dir)
    assert first.imported == ["a-20260101T000000Z", "b-20260102T000000Z"]
    assert [name for name, _ in first.refused] == ["c-20260103T000000Z"]
    assert 'metrics.json columns["lstm:sign"].sharpe: expected a number or null' in first.refused[0][1]
    before = _counts(engine)
    assert before["runs"] == 2
    # per run: a sharpe and a return per column (benchmark included), plus the best over the model columns ("*");
    # run b's only Sharpe is null, so it has no best Sharpe row; the oracle is marked a benchmark (one row)
    assert before["run_metrics"] == (3 * 2 + 2 + 1) + (2 * 2 + 1 + 1)

    second = import_runs(engine, runs_dir)
    assert second.imported == [] and sorted(second.present) == ["a-20260101T000000Z", "b-20260102T000000Z"]
    assert _counts(engine) == before


def test_db_commands_upgrade_then_import_twice(tmp_path, runs_dir, capsys):
    write_run(runs_dir, "a-20260101T000000Z", sharpe={"lstm:sign": 1.0})
    url = f"sqlite:///{tmp_path / 'cli.sqlite'}"
    assert main(["db", "import", str(runs_dir), "--db", url]) == 2  # no schema yet: refused, names the command
    assert "signalbench db upgrade" in capsys.readouterr().err
    assert main(["db", "upgrade", "--db", url]) == 0
    assert main(["db", "import", str(runs_dir), "--db", url]) == 0
    assert "1 imported, 0 already there" in capsys.readouterr().out
    assert main(["db", "import", str(runs_dir), "--db", url]) == 0
    assert "0 imported, 1 already there" in capsys.readouterr().out


def test_sqlite_default_sits_beside_the_runs_folder_in_wal_mode(tmp_path, runs_dir):
    url = db.default_url(runs_dir)
    assert url == f"sqlite:///{tmp_path / 'signalbench.sqlite'}"
    engine = db.make_engine(url)
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
    engine.dispose()


def test_keys_create_takes_the_database_before_or_after_the_subcommand(tmp_path, capsys):
    from signalbench.cli import _parser

    before = _parser().parse_args(
        ["serve", "--runs", "x", "--db", "sqlite://", "keys", "create", "--name", "a", "--scope", "read"]
    )
    after = _parser().parse_args(["serve", "keys", "create", "--name", "a", "--scope", "read", "--runs", "x"])
    assert (str(before.runs), before.db) == ("x", "sqlite://") and (str(after.runs), after.db) == ("x", None)
    url = f"sqlite:///{tmp_path / 'k.sqlite'}"
    assert main(["db", "upgrade", "--db", url]) == 0
    assert main(["serve", "--db", url, "keys", "create", "--name", "ci", "--scope", "read", "--scope", "write"]) == 0
    key = capsys.readouterr().out.splitlines()[-2]
    engine = db.make_engine(url)
    from signalbench.service import keys

    assert keys.identify(engine, key) == ("ci", {"read", "write"})
    engine.dispose()
