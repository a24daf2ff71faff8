"""A research service for a team: ``signalbench serve`` (the ``service`` extra: FastAPI, uvicorn, SQLAlchemy, Alembic).

An orchestrator (``docs/architecture.md``): it may import every stage; no stage imports it.

- :mod:`~signalbench.service.db`: the tables (SQLAlchemy Core), the engine (SQLite in WAL mode, or PostgreSQL by
  URL) and the schema check; :mod:`~signalbench.service.migrate`: Alembic, run only by ``signalbench db upgrade``,
  its own version table ``signalbench_alembic_version``.
- :mod:`~signalbench.service.importer`: run folders into the database (``signalbench db import``), idempotent;
  :mod:`~signalbench.service.runfolder`: the service's every read of a run folder, through its checked readers.
- :mod:`~signalbench.service.query`: the filter language of ``GET /runs`` (AND, OR, parentheses) and
  :mod:`~signalbench.service.search`: the runs query, sorted by any metric, with a keyset cursor.
- :mod:`~signalbench.service.keys`: API keys with scopes, stored hashed; :mod:`~signalbench.service.paths`: run ids
  and artifact paths that never leave the runs folder.
- :mod:`~signalbench.service.jobs`: the job runner (each job a separate process), persisted states.
- :mod:`~signalbench.service.predict`: saved models of a run answering feature rows.
- :mod:`~signalbench.service.app`: the FastAPI application (routes in ``routes_*.py``; ``routes_stream`` relays a
  streaming consumer's predictions on a WebSocket); :mod:`~signalbench.service.page`: the web page.
- :mod:`~signalbench.service.commands`: ``signalbench serve``, ``signalbench serve keys create``, ``signalbench db``.
"""
