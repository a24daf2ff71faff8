"""Alembic's environment: the connection comes from :mod:`signalbench.service.migrate`, never from a file."""

from alembic import context

from signalbench.service.migrate import VERSION_TABLE

connection = context.config.attributes["connection"]
context.configure(connection=connection, version_table=VERSION_TABLE, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
